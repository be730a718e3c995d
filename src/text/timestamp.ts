/**
 * The timestamp part of an event line, `[time] (+delta) ` or `timestamp = time, delta = +d`,
 * with babeltrace2's state across events (previous time, delta, negative-time warning) and its
 * wall-clock texts. The printer (pretty.ts) extends this class: writing the time stays a plain
 * method call on the printer.
 */
import type { ClockClass } from '../ctf/ir.js';
import type { EventRecord, TimeBase } from '../ctf/event.js';
import type { ClockOffset } from './clock.js';
import {
  CYCLES_UNKNOWN,
  clockOffsetNs,
  cyclesToNs,
  DOT,
  formatDelta,
  isU64Max,
  NS,
  pad20,
  padN,
  PLUS,
  REAL_UNKNOWN,
  SAFE,
  subU64,
} from './clock.js';
import type { Colors } from './colors.js';
import { pad2, pad9 } from './format.js';
import type { PrettyOptions } from './options.js';
import type { ByteWriter } from './writer.js';
import { putBytes, putDec, putPadded } from './writer.js';

/** Writes the timestamp part of event lines and the times of discarded-items warnings. */
export abstract class TimestampPrinter {
  // Timestamp state (babeltrace2 keeps -1 as "none yet").
  private lastTs: number | undefined;
  /** Exact absolute time of the previous event when it was beyond the exact range. */
  private lastExact: bigint | undefined;
  private deltaTs: number | bigint | undefined;
  private lastCycles: number | bigint | undefined;
  private deltaCycles: number | bigint | undefined;
  private negativeWarned = false;
  private cacheSec = NaN;
  private cachePrefix = '';
  private cachePrefixBytes: Uint8Array = new Uint8Array(0);
  // Constant pieces around the timestamp and the delta.
  private readonly tsOpen: Uint8Array;
  private readonly tsClose: Uint8Array;
  private readonly deltaOpen: Uint8Array;
  private readonly deltaClose: Uint8Array;

  constructor(
    protected readonly opts: PrettyOptions,
    private readonly base: TimeBase,
    /** Where the negative-time warning goes. */
    private readonly warnings: { err(text: string): void },
    /** `--clock-offset`/`--clock-offset-ns` (used for exact times far from the base). */
    private readonly clockOffset: ClockOffset,
    protected readonly w: ByteWriter,
    c: Colors,
  ) {
    const b = (t: string): Uint8Array => Buffer.from(t, 'latin1');
    if (opts.namesHeader) {
      this.tsOpen = b(c.name + 'timestamp' + c.rst + ' = ' + c.timestamp);
      this.tsClose = b(c.rst);
      this.deltaOpen = b(', ' + c.name + 'delta' + c.rst + ' = ');
      this.deltaClose = b('');
    } else {
      this.tsOpen = b('[' + c.timestamp);
      this.tsClose = b(c.rst + '] ');
      this.deltaOpen = b('(');
      this.deltaClose = b(') ');
    }
  }

  /**
   * `[time] (+delta) ` or `timestamp = time, delta = +d` (names variant). babeltrace2 keeps the
   * previous time and the delta with -1 meaning "none": an event whose time is exactly -1 ns from
   * the origin is taken as "no previous time" (the delta is then left unchanged), and a delta of
   * exactly -1 prints as unknown.
   */
  protected writeTs(rec: EventRecord): void {
    const o = this.opts;
    const w = this.w;
    const ts = rec.ts;
    // Fast path: wall-clock time of a non-negative time in the exact range.
    if (!o.clockCycles && ts < SAFE && ts > -SAFE && this.lastExact === undefined) {
      const sec = this.wallSeconds(ts);
      const ns = this.base.ns + ts - (sec - this.base.seconds) * 1e9;
      if (sec >= 0) {
        if (sec !== this.cacheSec) this.setCache(sec);
        if (this.lastTs !== undefined) this.deltaTs = ts - this.lastTs;
        this.lastTs = ts;
        if (w.pos + 192 > w.buf.length) w.ensure(192);
        const b = w.buf;
        let p = putBytes(b, w.pos, this.tsOpen);
        p = putBytes(b, p, this.cachePrefixBytes);
        p = putPadded(b, p, ns, 9);
        p = putBytes(b, p, this.tsClose);
        if (o.delta) {
          p = putBytes(b, p, this.deltaOpen);
          const dt = this.deltaTs;
          if (dt === undefined || dt === -1) {
            p = putBytes(b, p, REAL_UNKNOWN);
          } else if (typeof dt === 'number' && dt >= 0) {
            const dsec = Math.floor(dt / 1e9);
            b[p++] = 43;
            p = putDec(b, p, dsec);
            b[p++] = 46;
            p = putPadded(b, p, dt - dsec * 1e9, 9);
          } else {
            const t = formatDelta(dt);
            for (let i = 0; i < t.length; i++) b[p++] = t.charCodeAt(i);
          }
          p = putBytes(b, p, this.deltaClose);
        }
        w.pos = p;
        return;
      }
    }
    w.lit(this.tsOpen);
    if (o.clockCycles) {
      const cyc = rec.cycles;
      if (typeof cyc === 'number' && cyc >= 0 && cyc <= 9007199254740991) w.padded(cyc, 20);
      else w.raw(pad20(cyc));
      w.lit(this.tsClose);
      if (this.lastCycles !== undefined) this.deltaCycles = subU64(cyc, this.lastCycles);
      this.lastCycles = isU64Max(cyc) ? undefined : cyc;
      if (o.delta) {
        w.lit(this.deltaOpen);
        const dc = this.deltaCycles;
        if (dc === undefined || isU64Max(dc)) w.lit(CYCLES_UNKNOWN);
        else if (typeof dc === 'number' && dc < 1e12) {
          w.lit(PLUS);
          w.padded(dc, 12);
        } else w.raw('+' + padN(dc, 12));
        w.lit(this.deltaClose);
      }
      return;
    }
    if (ts < SAFE && ts > -SAFE) {
      this.writeWall(ts);
      if (this.lastTs !== undefined) {
        this.deltaTs =
          this.lastExact === undefined ? ts - this.lastTs : this.baseBig() + BigInt(ts) - this.lastExact;
      }
      this.lastExact = undefined;
      this.lastTs = this.isMinusOneNs(ts) ? undefined : ts;
    } else {
      // Beyond 2^53 ns from the trace set's base the relative time is not exact: use the
      // stream clock's exact value.
      const abs = this.exactNs(ts, rec.cycles, rec.stream.clock);
      w.raw(this.wallTimeExact(abs));
      if (this.lastTs !== undefined) {
        this.deltaTs = abs - (this.lastExact ?? this.baseBig() + BigInt(this.lastTs));
      }
      this.lastExact = abs;
      this.lastTs = abs === -1n ? undefined : ts;
    }
    w.lit(this.tsClose);
    if (o.delta) {
      w.lit(this.deltaOpen);
      const dt = this.deltaTs;
      if (dt === undefined || dt === -1 || dt === -1n) w.lit(REAL_UNKNOWN);
      else if (typeof dt === 'number' && dt >= 0) {
        const sec = Math.floor(dt / 1e9);
        w.lit(PLUS);
        w.dec(sec);
        w.lit(DOT);
        w.padded(dt - sec * 1e9, 9);
      } else w.raw(formatDelta(dt));
      w.lit(this.deltaClose);
    }
  }

  /**
   * The whole seconds from the origin of a relative `ts` (exact below 2^53); its nanoseconds
   * are `base.ns + ts - (sec - base.seconds) * 1e9` (exact: integers below 2^53).
   */
  private wallSeconds(ts: number): number {
    const total = this.base.ns + ts;
    const sec = Math.floor(total / 1e9);
    // The quotient may round down to the integer below: then the remainder is 1e9.
    return (total - sec * 1e9 >= 1e9 ? sec + 1 : sec) + this.base.seconds;
  }

  /** Writes the wall-clock time of a relative `ts` (exact below 2^53). */
  private writeWall(ts: number): void {
    const sec = this.wallSeconds(ts);
    const ns = this.base.ns + ts - (sec - this.base.seconds) * 1e9;
    if (sec < 0) {
      this.w.raw(this.negativeTime(sec, ns));
      return;
    }
    if (sec !== this.cacheSec) this.setCache(sec);
    this.w.lit(this.cachePrefixBytes);
    this.w.padded(ns, 9);
  }

  private setCache(sec: number): void {
    this.cacheSec = sec;
    this.cachePrefix = this.secondsText(sec);
    this.cachePrefixBytes = Buffer.from(this.cachePrefix, 'latin1');
  }

  private baseBig(): bigint {
    return BigInt(this.base.seconds) * NS + BigInt(this.base.ns);
  }

  /** Whether relative `ts` is exactly -1 ns from the origin. */
  private isMinusOneNs(ts: number): boolean {
    const approx = this.base.seconds * 1e9 + this.base.ns + ts;
    if (approx > 1e6 || approx < -1e6) return false;
    return this.baseBig() + BigInt(ts) === -1n;
  }

  /**
   * Exact ns from the origin of a clock value, computed like babeltrace2: the clock offset
   * (seconds, then cycles, normalised, plus `--clock-offset`/`--clock-offset-ns` applied to the
   * clock class) plus the value, cycles converted with double arithmetic for non-GHz clocks.
   * Falls back to the relative time when the stream has no clock.
   */
  private exactNs(ts: number, cycles: number | bigint | undefined, clock: ClockClass | undefined): bigint {
    if (clock === undefined || cycles === undefined) return this.baseBig() + BigInt(Math.round(ts));
    return clockOffsetNs(clock, this.clockOffset) + cyclesToNs(cycles, clock.freq);
  }

  /** babeltrace2's wall-clock time text of a relative `ts` (exact below 2^53). */
  wallTime(ts: number): string {
    const sec = this.wallSeconds(ts);
    const ns = this.base.ns + ts - (sec - this.base.seconds) * 1e9;
    if (sec < 0) return this.negativeTime(sec, ns);
    if (sec !== this.cacheSec) this.setCache(sec);
    return this.cachePrefix + pad9(ns);
  }

  /** Same for an exact absolute time. */
  private wallTimeExact(abs: bigint): string {
    let sec = abs / NS;
    let ns = abs - sec * NS;
    if (ns < 0n) {
      ns += NS;
      sec -= 1n;
    }
    const s = Number(sec);
    if (s < 0) return this.negativeTime(s, Number(ns));
    if (s !== this.cacheSec) this.setCache(s);
    return this.cachePrefix + pad9(Number(ns));
  }

  /** Time text of a discarded-items bound. */
  protected boundTime(ts: number, cycles: number | undefined, clock: ClockClass | undefined): string {
    if (ts < SAFE && ts > -SAFE) return this.wallTime(ts);
    return this.wallTimeExact(this.exactNs(ts, cycles, clock));
  }

  private secondsText(sec: number): string {
    const o = this.opts;
    if (o.clockSeconds) return sec + '.';
    const d = new Date(sec * 1000);
    let s = '';
    if (o.clockGmt) {
      if (o.clockDate)
        s = d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + ' ';
      return s + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + '.';
    }
    if (o.clockDate) s = d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ';
    return s + pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + '.';
  }

  /**
   * Negative times: babeltrace2 warns once and prints `-SEC.NS`; after the warning it formats
   * the absolute value as a time of day (a babeltrace2 quirk kept for identical output).
   */
  private negativeTime(sec: number, ns: number): string {
    // Absolute value of sec + ns/1e9 with sec < 0, 0 <= ns < 1e9.
    let asec = -sec;
    let ans = 0;
    if (ns > 0) {
      asec -= 1;
      ans = 1e9 - ns;
    }
    if (this.opts.clockSeconds) return '-' + asec + '.' + pad9(ans);
    if (!this.negativeWarned) {
      this.negativeWarned = true;
      this.warnings.err(
        '[warning] Fallback to [sec.ns] to print negative time value. Use --clock-seconds.\n',
      );
      return '-' + asec + '.' + pad9(ans);
    }
    this.cacheSec = NaN;
    return this.secondsText(asec) + pad9(ans);
  }
}
