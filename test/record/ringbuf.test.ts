/**
 * Differential test of the ring-buffer page reader against the kernel's own decoder: record
 * into a private instance, stop, read the non-consuming text view (`trace`), then consume the
 * same data through `trace_pipe_raw` with PageCursor; both must list the same events, with the
 * same pids and timestamps (the text view rounds to microseconds) and field values.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { PageCursor } from '../../src/record/tracefs/ringbuf.js';
import { findField, parseEventFormat, parseHeaderEvent, parseHeaderPage } from '../../src/record/format.js';
import type { FtraceEventFormat } from '../../src/record/format.js';
import { skipReason, tracefsRoot } from './helpers.js';

const reason = skipReason();
if (reason) console.warn(`SKIPPING ringbuf differential tests: ${reason}`);

/**
 * Which sub-buffer sizes this kernel lets an instance use. Kernels before 6.8 have no
 * `buffer_subbuf_size_kb` (only the page size), and some builds refuse every write to it with
 * EPERM (seen on a 6.18 Firecracker guest); then only the size it reports can be tested.
 */
function subbufSupport(): { fixed?: number; why?: string } {
  if (reason) return {};
  const dir = path.join(tracefsRoot()!, 'instances', `nstrace-test-subbuf-probe-${process.pid}`);
  if (fs.existsSync(dir)) fs.rmdirSync(dir);
  fs.mkdirSync(dir);
  try {
    const f = path.join(dir, 'buffer_subbuf_size_kb');
    if (!fs.existsSync(f)) return { fixed: 4, why: 'this kernel has no buffer_subbuf_size_kb (before 6.8)' };
    const cur = fs.readFileSync(f, 'utf8').trim();
    try {
      fs.writeFileSync(f, cur === '8' ? '4' : '8');
      return {};
    } catch (e) {
      return {
        fixed: Number(cur),
        why: `this kernel refuses to change buffer_subbuf_size_kb (${(e as NodeJS.ErrnoException).code})`,
      };
    }
  } finally {
    fs.rmdirSync(dir);
  }
}
const subbuf = subbufSupport();

interface Ev {
  cpu: number;
  us: number;
  pid: number;
  name: string;
  extra: string;
}

let instDir: string | undefined;
afterEach(() => {
  if (instDir && fs.existsSync(instDir)) {
    fs.writeFileSync(path.join(instDir, 'tracing_on'), '0');
    fs.writeFileSync(path.join(instDir, 'events/enable'), '0');
    fs.rmdirSync(instDir);
  }
  instDir = undefined;
});

function recordInstance(subbufKb: number): { dir: string; formats: Map<number, FtraceEventFormat> } {
  const root = tracefsRoot()!;
  const dir = path.join(root, 'instances', `nstrace-test-ringbuf-${process.pid}`);
  if (fs.existsSync(dir)) fs.rmdirSync(dir);
  fs.mkdirSync(dir);
  instDir = dir;
  const w = (f: string, v: string): void => fs.writeFileSync(path.join(dir, f), v);
  w('tracing_on', '0');
  w('trace_clock', 'mono');
  w('buffer_size_kb', '4096');
  // Writing the current size is refused on some kernels too, so only write a change.
  if (fs.readFileSync(path.join(dir, 'buffer_subbuf_size_kb'), 'utf8').trim() !== String(subbufKb)) {
    w('buffer_subbuf_size_kb', String(subbufKb));
  }
  const events: Array<[string, string]> = [
    ['sched', 'sched_switch'],
    ['sched', 'sched_waking'],
    ['sched', 'sched_process_exec'],
    ['syscalls', 'sys_enter_read'],
    ['syscalls', 'sys_exit_read'],
    ['syscalls', 'sys_enter_openat'],
  ];
  const formats = new Map<number, FtraceEventFormat>();
  for (const [s, e] of events) {
    const f = parseEventFormat(fs.readFileSync(path.join(dir, 'events', s, e, 'format'), 'utf8'), s);
    formats.set(f.id, f);
    w(`events/${s}/${e}/enable`, '1');
  }
  w('tracing_on', '1');
  execFileSync('sh', [
    '-c',
    'for i in 1 2 3 4 5 6 7 8 9 10; do cat /proc/version /proc/loadavg >/dev/null; done',
  ]);
  // Some bursts of reads so that pages fill up and time extends appear.
  execFileSync('sh', [
    '-c',
    'head -c 200000 /dev/zero | od >/dev/null; sleep 0.2; head -c 20000 /dev/zero | od > /dev/null',
  ]);
  w('tracing_on', '0');
  return { dir, formats };
}

function parseText(dir: string): Ev[] {
  const text = fs.readFileSync(path.join(dir, 'trace'), 'utf8');
  const out: Ev[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d{6}): (\w+)(?:: ?|\(| -> )(.*)$/.exec(line);
    if (!m) {
      if (line.trim()) throw new Error(`unparsed trace line: ${line}`);
      continue;
    }
    // Syscall events print as `sys_read(fd: ...)` and `sys_read -> 0x5`.
    if (/^sys_\w+$/.test(m[5]!))
      m[5] = line.includes(`${m[5]} -> `)
        ? m[5]!.replace(/^sys_/, 'sys_exit_')
        : m[5]!.replace(/^sys_/, 'sys_enter_');
    let extra = '';
    if (m[5] === 'sched_switch') {
      const p = /prev_pid=(\d+).*next_pid=(\d+)/.exec(m[6]!);
      extra = p ? `${p[1]}>${p[2]}` : '';
    } else if (m[5] === 'sched_process_exec') {
      extra = /filename=(\S+)/.exec(m[6]!)?.[1] ?? '';
    }
    out.push({
      cpu: Number(m[2]),
      us: Number(m[3]) * 1e6 + Number(m[4]),
      pid: Number(m[1]),
      name: m[5]!,
      extra,
    });
  }
  return out;
}

function parseRaw(dir: string, formats: Map<number, FtraceEventFormat>): { events: Ev[]; pages: number } {
  const root = tracefsRoot()!;
  const page = parseHeaderPage(fs.readFileSync(path.join(root, 'events/header_page'), 'utf8'));
  const header = parseHeaderEvent(fs.readFileSync(path.join(root, 'events/header_event'), 'utf8'));
  const subbuf = Number(fs.readFileSync(path.join(dir, 'buffer_subbuf_size_kb'), 'utf8').trim()) * 1024;
  const out: Ev[] = [];
  let pages = 0;
  const cpus = fs
    .readdirSync(path.join(dir, 'per_cpu'))
    .map((d) => Number(d.slice(3)))
    .sort((a, b) => a - b);
  // base 0: relative = absolute (the mono clock is far below 2^53 ns here).
  const cursor = new PageCursor(page, header, 0, 0);
  for (const cpu of cpus) {
    const fd = fs.openSync(
      path.join(dir, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw'),
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK,
    );
    const buf = Buffer.alloc(subbuf);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    try {
      while (true) {
        let n: number;
        try {
          n = fs.readSync(fd, buf, 0, subbuf, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw err;
        }
        if (n <= 0) break;
        pages++;
        cursor.reset(view, 0, n);
        expect(cursor.missed).toBe(0);
        while (cursor.next()) {
          const s = cursor.dataOffset;
          const id = view.getUint16(s, true);
          const fmt = formats.get(id);
          expect(fmt, `unknown event id ${id}`).toBeDefined();
          const pid = view.getInt32(s + 4, true);
          let extra = '';
          if (fmt!.name === 'sched_switch') {
            const pp = findField(fmt!, 'prev_pid')!;
            const np = findField(fmt!, 'next_pid')!;
            extra = `${view.getInt32(s + pp.offset, true)}>${view.getInt32(s + np.offset, true)}`;
          } else if (fmt!.name === 'sched_process_exec') {
            const f = findField(fmt!, 'filename')!;
            const loc = view.getUint32(s + f.offset, true);
            extra = buf.toString('latin1', s + (loc & 0xffff), s + (loc & 0xffff) + (loc >>> 16) - 1);
          }
          // The text view prints ns2usecs(ts) = (ts + 500) / 1000.
          out.push({ cpu, us: Math.floor((cursor.ts + 500) / 1000), pid, name: fmt!.name, extra });
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { events: out, pages };
}

function byCpu(evs: Ev[]): Map<number, Ev[]> {
  const m = new Map<number, Ev[]>();
  for (const e of evs) {
    let l = m.get(e.cpu);
    if (!l) m.set(e.cpu, (l = []));
    l.push(e);
  }
  return m;
}

describe.skipIf(reason !== undefined)('ring-buffer pages vs the kernel text view', () => {
  for (const kb of [4, 16]) {
    const cannot = subbuf.fixed !== undefined && subbuf.fixed !== kb;
    if (cannot) console.warn(`SKIPPING ringbuf test with ${kb} KiB sub-buffers: ${subbuf.why}`);
    it.skipIf(cannot)(`decodes every event like the kernel (${kb} KiB sub-buffers)`, () => {
      const { dir, formats } = recordInstance(kb);
      const text = parseText(dir);
      const raw = parseRaw(dir, formats);
      expect(text.length).toBeGreaterThan(100);
      expect(raw.pages).toBeGreaterThan(1);
      const tc = byCpu(text);
      const rc = byCpu(raw.events);
      expect([...rc.keys()].sort()).toEqual([...tc.keys()].sort());
      for (const [cpu, tl] of tc) {
        const rl = rc.get(cpu)!;
        expect(rl.length, `cpu ${cpu} event count`).toBe(tl.length);
        for (let i = 0; i < tl.length; i++) {
          expect(rl[i], `cpu ${cpu} event ${i}`).toEqual(tl[i]);
        }
        // Timestamps never go back within a CPU.
        for (let i = 1; i < rl.length; i++) expect(rl[i]!.us).toBeGreaterThanOrEqual(rl[i - 1]!.us);
      }
      expect(raw.events.some((e) => e.name === 'sched_process_exec' && e.extra.length > 0)).toBe(true);
    });
  }
});
