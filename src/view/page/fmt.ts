/** Time and number formatting for the page. */
import type { Summary } from '../types.js';

/** A duration in the unit that suits it: `812 ns`, `3.25 µs`, `14.7 ms`, `1.204 s`. */
export function fmtDur(ns: number): string {
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${trim(ns / 1e3)} µs`;
  if (a < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}

function trim(v: number): string {
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

/** Offset from the trace's first event, in seconds with the decimals a step of `step` ns needs. */
export function fmtOffset(ns: number, step: number): string {
  const decimals = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9) - 1e-9)));
  return `${(ns / 1e9).toFixed(decimals)} s`;
}

/** Tick positions (ns, absolute) over [t0, t1] about `spacing` px apart on `width` px. */
export function ticks(t0: number, t1: number, width: number, spacing = 110): { step: number; at: number[] } {
  const raw = ((t1 - t0) * spacing) / Math.max(1, width);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  const at: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && at.length < 200; t += step) at.push(t);
  return { step, at };
}

/**
 * The clock time of `ts` as `nstrace print` shows it (`HH:MM:SS.nnnnnnnnn`, the server's time
 * zone at the trace's start).
 */
export function fmtClock(s: Summary, ts: number): string {
  const total = s.base.ns + ts;
  let sec = Math.floor(total / 1e9);
  let ns = Math.round(total - sec * 1e9);
  if (ns >= 1e9) {
    ns -= 1e9;
    sec++;
  }
  const local = s.base.seconds + sec + s.utcOffsetMin * 60;
  const day = ((local % 86400) + 86400) % 86400;
  const hh = Math.floor(day / 3600);
  const mm = Math.floor((day % 3600) / 60);
  const ss = day % 60;
  const p2 = (v: number): string => String(v).padStart(2, '0');
  return `${p2(hh)}:${p2(mm)}:${p2(ss)}.${String(ns).padStart(9, '0')}`;
}

/** `1,234,567`. */
export function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

export function fmtPct(v: number | null): string {
  return v === null ? '—' : `${v.toFixed(v >= 10 ? 1 : 2)} %`;
}
