/** Shared helpers for the recorder tests (root, tracefs, workloads, babeltrace2). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { TraceSet } from '../../src/ctf/reader.js';
import { fieldIndex } from '../../src/ctf/fields.js';
import { capabilityMissing, rootCheck } from '../helpers/require.js';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function tracefsRoot(): string | undefined {
  for (const d of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (fs.existsSync(path.join(d, 'events', 'header_page'))) return d;
  }
  return undefined;
}

/**
 * Why the recorder tests cannot run here, or undefined when they can (root and tracefs; under
 * CI=true a missing one fails the run, see test/helpers/require.ts).
 */
export function skipReason(): string | undefined {
  return (
    capabilityMissing('root', rootCheck) ??
    capabilityMissing('tracefs', () => (tracefsRoot() ? undefined : 'tracefs is not mounted'))
  );
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nstrace-${prefix}-`));
}

/** Snapshot of the global tracefs settings the recorder must leave untouched. */
export function tracefsSnapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const files = [
    'tracing_on',
    'trace_clock',
    'buffer_size_kb',
    'current_tracer',
    'set_event',
    'set_event_pid',
    'set_event_notrace_pid',
    'dynamic_events',
    'trace_options',
    'tracing_cpumask',
  ];
  for (const f of files) {
    try {
      out[f] = fs.readFileSync(path.join(root, f), 'utf8');
    } catch {
      out[f] = '<unreadable>';
    }
  }
  out['instances'] = fs
    .readdirSync(path.join(root, 'instances'))
    .filter((n) => n.startsWith('nstrace-'))
    .sort()
    .join(',');
  out['mounts'] = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) => / (tracefs|debugfs) /.test(l))
    .sort()
    .join('\n');
  return out;
}

export interface Bt2Result {
  status: number;
  stdout: string;
  stderr: string;
}

export function babeltrace2(args: string[]): Bt2Result {
  const r = spawnSync('babeltrace2', args, { encoding: 'latin1', maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compiles a small C program once per test run (cached by source hash). */
export function compileC(name: string, source: string): string {
  const dir = path.join(os.tmpdir(), 'nstrace-test-bin');
  fs.mkdirSync(dir, { recursive: true });
  let h = 0;
  for (let i = 0; i < source.length; i++) h = (h * 31 + source.charCodeAt(i)) >>> 0;
  const bin = path.join(dir, `${name}-${h.toString(16)}`);
  if (!fs.existsSync(bin)) {
    const src = `${bin}.c`;
    fs.writeFileSync(src, source);
    execFileSync('gcc', ['-O2', '-o', bin, src], { stdio: 'pipe' });
  }
  return bin;
}

/** One parsed line of babeltrace2's default text output. */
export interface Bt2Event {
  ts: string;
  name: string;
  cpu: number;
  ctx: Map<string, string>;
  payload: string;
  line: string;
}

/** Parses `babeltrace2` pretty lines (name, cpu_id, the context fields, the raw payload text). */
export function parseBt2Lines(text: string): Bt2Event[] {
  const out: Bt2Event[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^\[([^\]]+)\] \([^)]*\) \S+ (\S+): \{ cpu_id = (\d+) \}, (?:\{ ([^}]*) \}, )?\{ ?(.*) ?\}$/.exec(line);
    if (!m) continue;
    const ctx = new Map<string, string>();
    if (m[4]) {
      for (const kv of m[4].split(/, (?=[a-z_]+ = )/)) {
        const i = kv.indexOf(' = ');
        if (i > 0) ctx.set(kv.slice(0, i), kv.slice(i + 3));
      }
    }
    out.push({ ts: m[1]!, name: m[2]!, cpu: Number(m[3]), ctx, payload: m[5] ?? '', line });
  }
  return out;
}

/** Value of `key = value` in a babeltrace2 payload text (first match). */
export function field(payload: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|[{,] )${key} = ("(?:[^"\\\\]|\\\\.)*"|\\[[^\\]]*\\]|[^,}]+)`);
  const m = re.exec(payload);
  return m ? m[1]!.trim() : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is this process or one of its descendants (walking PPid up). */
function ours(pid: number): boolean {
  for (let p = pid, n = 0; p > 1 && n < 64; n++) {
    if (p === process.pid) return true;
    try {
      p = Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * tracefs is as it was: every global setting equal, and no `nstrace-*` instance left that was
 * not there before. Instances of other live processes (another recorder or test on the same
 * machine, named after their pid) come and go on their own and are not ours to check; one
 * whose owner is dead, or is this process or a child of it, is.
 */
export function expectTracefsRestored(before: Record<string, string>, after: Record<string, string>): void {
  const { instances: bi = '', ...b } = before;
  const { instances: ai = '', ...a } = after;
  expect(a).toEqual(b);
  const had = new Set(bi.split(',').filter((x) => x !== ''));
  const left = ai
    .split(',')
    .filter((x) => x !== '' && !had.has(x))
    .filter((x) => {
      const m = /(\d+)/.exec(x);
      const owner = m ? Number(m[1]) : 0;
      return owner === 0 || !alive(owner) || ours(owner);
    });
  expect(left, 'tracefs instances left behind').toEqual([]);
}

/** One event's string field with its context, as nstrace's reader decodes it. */
export interface StringField {
  tid: number;
  pid: number;
  procname: string;
  pidNs: number;
  /** ns relative to the trace set's time base. */
  ts: number;
  value: string;
  /** The other payload fields, by name (integers as numbers). */
  payload: Map<string, number | string>;
}

/**
 * The `field` of every `eventName` event of a trace, read with nstrace's own reader
 * (babeltrace2 2.0.4 prints an empty string as the previous value of that field).
 */
export function readStringField(dir: string, eventName: string, fieldName: string): StringField[] {
  const ts = TraceSet.open([dir]);
  const out: StringField[] = [];
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind !== 'event' || r.eventClass.name !== eventName) continue;
      const ec = r.eventClass;
      const sc = r.stream.streamClass.eventContext!;
      const ctx = (n: string): unknown => {
        const i = fieldIndex(sc, `_${n}`);
        return i < 0 ? undefined : r.streamContext![i];
      };
      const payload = new Map<string, number | string>();
      (ec.fields?.fields ?? []).forEach((f, i) => {
        const v = r.payload![i];
        payload.set(f.name.replace(/^_/, ''), typeof v === 'bigint' ? Number(v) : (v as number | string));
      });
      out.push({
        tid: Number(ctx('tid')),
        pid: Number(ctx('pid')),
        procname: String(ctx('procname') ?? ''),
        pidNs: Number(ctx('pid_ns') ?? 0),
        ts: Number(r.ts),
        value: String(r.payload![fieldIndex(ec.fields, `_${fieldName}`)]),
        payload,
      });
    }
  } finally {
    ts.close();
  }
  return out;
}
