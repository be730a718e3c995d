/**
 * The tracefs backend's rule for values read late (watch-logic.ts, strings.ts), driven with
 * fakes of /proc: a string is written only when the thread is provably still inside the very
 * syscall that pointed to it. Each case below is a way the old watcher wrote a wrong value
 * (tid reuse, exec, a syscall that changed, memory rewritten after the call), and must now give
 * "unknown" with its reason.
 */
import { describe, expect, it } from 'vitest';
import {
  SNAP_ALL,
  SNAP_IMMUTABLE,
  SNAP_TIME,
  watchLogic,
  type MemReader,
  type PendingItem,
  type ProcIo,
  type StrEvent,
} from '../../src/record/tracefs/watch-logic.js';
import { StringArgs, sameAsKernelCopy } from '../../src/record/tracefs/strings.js';
import type { StrCapture } from '../../src/record/tracefs/watch-worker.js';
import {
  compilePayload,
  argFields,
  kernelCopyField,
  planSyscall,
  type ConvHelpers,
} from '../../src/record/convert.js';
import { parseEventFormat } from '../../src/record/format.js';

const L = watchLogic();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fake task as /proc shows it; `hooks` run between the verifier's reads. */
interface FakeTask {
  start: number;
  /** `/proc/<tid>/syscall` line. */
  syscall: string;
  /** Memory: address → NUL-terminated content. */
  mem: Map<number, string>;
}

class FakeProc implements ProcIo {
  tasks = new Map<number, FakeTask>();
  clock = 1_000_000;
  /** Called after each read: may change the world (`step` counts reads). */
  hook: ((step: string) => void) | undefined;
  reads: string[] = [];

  private after(step: string): void {
    this.reads.push(step);
    this.hook?.(step);
  }
  startNs(tid: number): number | undefined {
    const t = this.tasks.get(tid);
    this.after('stat');
    return t?.start;
  }
  syscall(tid: number): string | undefined {
    const t = this.tasks.get(tid);
    const v = t?.syscall;
    this.after('syscall');
    return v;
  }
  mem(tid: number): MemReader | undefined {
    // Bound to the address space the task has when it is opened, like /proc/<tid>/mem.
    const t = this.tasks.get(tid);
    if (!t) return undefined;
    const mm = t.mem;
    this.after('open');
    return {
      readString: (ptr) => {
        const s = mm.get(ptr);
        this.after('read');
        return s === undefined ? undefined : enc.encode(s);
      },
      close: () => undefined,
    };
  }
  now(): number {
    return this.clock;
  }
}

const TID = 4242;
const PTR = 0x7f12_3456_7000;
const AT_FDCWD = '0xffffffffffffff9c';
const NR_OPENAT = 257;
const ptrHex = L.hex64(PTR % 2 ** 32, Math.floor(PTR / 2 ** 32));

function openatLine(ptr = ptrHex, flags = '0x0'): string {
  return `${NR_OPENAT} ${AT_FDCWD} ${ptr} ${flags} 0x0 0x0 0x0 0x7ffd1000 0x7f00aa00\n`;
}

function openatEvent(ts = 500_000): StrEvent {
  return { tid: TID, ts, nr: NR_OPENAT, args: [AT_FDCWD, ptrHex, '0x0', '0x0'], ptrs: [PTR] };
}

function blockedInOpenat(path = '/srv/fifo'): FakeProc {
  const p = new FakeProc();
  p.tasks.set(TID, { start: 100_000, syscall: openatLine(), mem: new Map([[PTR, path]]) });
  return p;
}

/** Runs the verifier, then the trace's later events, and settles: the string or the reason. */
function run(
  p: FakeProc,
  ev: StrEvent,
  changes: Array<{ ts: number; kind: 'sysexit' | 'exec' | 'exit' | 'nschange' }> = [],
  opts: { untilExit?: boolean; changesFirst?: boolean } = {},
): string {
  const pending = new L.Pending<string>(200_000_000);
  if (opts.changesFirst) for (const c of changes) pending.note(ev.tid, c.ts, c.kind);
  const v = L.verifyString(p, ev, 30_000_000);
  if (!v.ok) return `unknown:${v.reason}`;
  pending.add({
    tid: ev.tid,
    ts: ev.ts,
    t2: v.t2,
    value: dec.decode(v.strings[0]),
    kind: 'str',
    mask: 0,
    untilExit: opts.untilExit === true,
  });
  if (!opts.changesFirst) for (const c of changes) pending.note(ev.tid, c.ts, c.kind);
  const done = pending.settle(Infinity);
  const left = pending.expire(Infinity);
  const item = (done[0] ?? left[0]) as PendingItem<string> | undefined;
  if (!item) return 'pending';
  return item.rejected !== undefined ? `unknown:${item.rejected}` : item.value;
}

describe('verified string reads (fake /proc)', () => {
  it('formats arguments as /proc/<tid>/syscall does and parses its three forms', () => {
    expect(L.hex64(0xffffff9c, 0xffffffff)).toBe(AT_FDCWD);
    expect(L.hex64(0, 0)).toBe('0x0');
    expect(L.hex64(0x56_7000, 0x7f12)).toBe('0x7f1200567000');
    expect(L.parseSyscall('running\n')).toEqual({ running: true });
    expect(L.parseSyscall('-1 0x7ffd0 0x7f00\n')).toMatchObject({ running: false, nr: -1 });
    expect(L.parseSyscall(openatLine())).toEqual({
      running: false,
      nr: NR_OPENAT,
      args: [AT_FDCWD, ptrHex, '0x0', '0x0', '0x0', '0x0'],
    });
  });

  it('a thread blocked in the very syscall gives its string, once the trace shows it stayed there', () => {
    const p = blockedInOpenat();
    expect(run(p, openatEvent())).toBe('/srv/fifo');
    // Read in the order that proves it: syscall, start, the memory, syscall again, start again.
    expect(p.reads).toEqual(['syscall', 'stat', 'open', 'read', 'syscall', 'stat']);
    // Its exit after the last check does not matter.
    expect(run(blockedInOpenat(), openatEvent(), [{ ts: p.clock + 5, kind: 'sysexit' }])).toBe('/srv/fifo');
  });

  it('a thread no longer in a syscall, or running: unknown (the common case)', () => {
    const p = blockedInOpenat();
    p.tasks.get(TID)!.syscall = '-1 0x7ffd1000 0x7f00aa00\n';
    expect(run(p, openatEvent())).toBe('unknown:notInSyscall');
    p.tasks.get(TID)!.syscall = 'running\n';
    expect(run(p, openatEvent())).toBe('unknown:running');
    p.tasks.get(TID)!.syscall = `0 0x3 0x7ffd 0x100 0x0 0x0 0x0 0x7ffd1000 0x7f00aa00\n`; // read(2)
    expect(run(p, openatEvent())).toBe('unknown:notInSyscall');
  });

  it('the same syscall with other arguments (a later call): unknown', () => {
    const p = blockedInOpenat();
    p.tasks.get(TID)!.syscall = openatLine(L.hex64(0x1000, 0x5555));
    expect(run(p, openatEvent())).toBe('unknown:argsDiffer');
    p.tasks.get(TID)!.syscall = openatLine(ptrHex, '0x80000');
    expect(run(p, openatEvent())).toBe('unknown:argsDiffer');
  });

  it('tid reuse: a task that started after the event, or the old one exiting in between', () => {
    const p = blockedInOpenat();
    // Started after the event (beyond the 30 ms slack of /proc's 10 ms start ticks).
    p.tasks.get(TID)!.start = 500_000 + 31_000_000;
    expect(run(p, openatEvent())).toBe('unknown:gone');
    // Same start tick (within the slack) but the event's task exited: the trace says so.
    const q = blockedInOpenat();
    q.tasks.get(TID)!.start = 510_000;
    expect(run(q, openatEvent(), [{ ts: 700_000, kind: 'exit' }])).toBe('unknown:left');
    // Gone altogether.
    const r = blockedInOpenat();
    r.tasks.delete(TID);
    expect(run(r, openatEvent())).toBe('unknown:gone');
  });

  it('a task replaced during the reads (start time changed): unknown', () => {
    const p = blockedInOpenat();
    p.hook = (step) => {
      if (step === 'read') p.tasks.get(TID)!.start = 200_000;
    };
    expect(run(p, openatEvent())).toBe('unknown:changed');
  });

  it('the syscall changed during the read: unknown', () => {
    const p = blockedInOpenat();
    p.hook = (step) => {
      if (step === 'read') p.tasks.get(TID)!.syscall = '-1 0x7ffd1000 0x7f00aa00\n';
    };
    expect(run(p, openatEvent())).toBe('unknown:changed');
    // Left and came back with other registers (sp/pc) while the memory was read.
    const q = blockedInOpenat();
    q.hook = (step) => {
      if (step === 'read') q.tasks.get(TID)!.syscall = openatLine().replace('0x7ffd1000', '0x7ffd2000');
    };
    expect(run(q, openatEvent())).toBe('unknown:changed');
  });

  it('memory rewritten after the call: the thread left and re-entered with the same arguments', () => {
    // The buffer now holds another path (a loop reusing it); /proc shows the same syscall,
    // arguments and registers. Only the trace knows the thread left in between.
    const p = blockedInOpenat('/etc/other');
    expect(run(p, openatEvent(), [{ ts: 600_000, kind: 'sysexit' }])).toBe('unknown:left');
    // The exit read before the entry (two CPUs' buffers): remembered and applied.
    const q = blockedInOpenat('/etc/other');
    expect(run(q, openatEvent(), [{ ts: 600_000, kind: 'sysexit' }], { changesFirst: true })).toBe(
      'unknown:left',
    );
    // An exit before the event (the previous call) does not matter.
    expect(run(blockedInOpenat(), openatEvent(), [{ ts: 400_000, kind: 'sysexit' }])).toBe('/srv/fifo');
  });

  it('exec between the event and the read: unknown (another address space, same tid)', () => {
    // The pre-exec shell opened /dev/null; by the read, the tid runs cat.
    const p = blockedInOpenat('/dev/null');
    expect(run(p, openatEvent(), [{ ts: 650_000, kind: 'exec' }])).toBe('unknown:left');
  });

  it('execve: the address space may be replaced inside the call; only a failed exec keeps the read', () => {
    const ev: StrEvent = { tid: TID, ts: 500_000, nr: 59, args: [ptrHex, '0x100', '0x200'], ptrs: [PTR] };
    const mk = (): FakeProc => {
      const p = new FakeProc();
      p.tasks.set(TID, {
        start: 1,
        syscall: `59 ${ptrHex} 0x100 0x200 0x0 0x0 0x0 0x7ffd 0x7f00\n`,
        mem: new Map([[PTR, '/usr/bin/true']]),
      });
      return p;
    };
    // Successful exec: sched_process_exec before the syscall's exit, even after the last check.
    expect(
      run(
        mk(),
        ev,
        [
          { ts: 5_000_000, kind: 'exec' },
          { ts: 5_100_000, kind: 'sysexit' },
        ],
        { untilExit: true },
      ),
    ).toBe('unknown:left');
    // Failed exec (ENOENT): the exit without an exec.
    expect(run(mk(), ev, [{ ts: 5_100_000, kind: 'sysexit' }], { untilExit: true })).toBe('/usr/bin/true');
    // No exit seen before the recording ended: gives up.
    expect(run(mk(), ev, [], { untilExit: true })).toBe('unknown:late');
  });

  it('unreadable memory, a string without NUL, a NULL pointer: unknown', () => {
    const p = blockedInOpenat();
    p.tasks.get(TID)!.mem = new Map();
    expect(run(p, openatEvent())).toBe('unknown:readFailed');
    const q = blockedInOpenat();
    const ev = openatEvent();
    ev.ptrs = [0];
    q.tasks.get(TID)!.syscall = openatLine('0x0');
    ev.args[1] = '0x0';
    expect(run(q, ev)).toBe('unknown:nullPointer');
  });

  it('lost trace events void every pending read', () => {
    const pending = new L.Pending<string>(1e8);
    const p = blockedInOpenat();
    const v = L.verifyString(p, openatEvent(), 30_000_000);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    pending.add({ tid: TID, ts: 500_000, t2: v.t2, value: 'x', kind: 'str', mask: 0, untilExit: false });
    // Not final before the trace is complete past the last check.
    expect(pending.settle(v.t2)).toEqual([]);
    expect(pending.oldest()).toBe(500_000);
    const voided = pending.voidAll('lost');
    expect(voided.map((x) => x.rejected)).toEqual(['lost']);
    expect(pending.size).toBe(0);
  });

  it('namespace snapshots keep only what no later unshare/setns (or exec, for time) changed', () => {
    const pending = new L.Pending<string>(1e8);
    const snap = (tid: number): PendingItem<string> => ({
      tid,
      ts: 100,
      t2: 1000,
      value: 's',
      kind: 'ns',
      mask: SNAP_ALL,
      untilExit: false,
    });
    const a = snap(1);
    const b = snap(2);
    const c = snap(3);
    const e = snap(4);
    for (const x of [a, b, c, e]) pending.add(x);
    pending.note(1, 500, 'nschange');
    pending.note(2, 500, 'exec');
    pending.note(3, 1500, 'nschange'); // after the reads: irrelevant
    pending.note(4, 100, 'nschange'); // the snapshot's own event
    const done = pending.settle(2000);
    expect(done).toHaveLength(4);
    expect(a.mask).toBe(SNAP_IMMUTABLE);
    expect(b.mask).toBe(SNAP_ALL & ~SNAP_TIME);
    expect(c.mask).toBe(SNAP_ALL);
    expect(e.mask).toBe(SNAP_ALL);
  });
});

describe('string arguments written by the converter', () => {
  const caps = new Map<string, StrCapture>();
  const src = {
    noWatcher: false,
    capture: (tid: number, ts: number, ptr: number) => caps.get(`${tid}/${ts}/${ptr}`),
  };
  const cap = (bytes: string | Uint8Array, reason?: StrCapture['reason']): StrCapture => ({
    kind: 'str',
    tid: 1,
    ts: 10,
    ptr: 99,
    bytes: typeof bytes === 'string' ? enc.encode(bytes) : bytes,
    reason,
  });
  const write = (f: (du: Uint8Array) => number): string => {
    const du = new Uint8Array(300);
    const end = f(du);
    expect(du[end - 1]).toBe(0);
    return dec.decode(du.subarray(0, end - 1));
  };

  it('the watcher: its verified string, else "" counted with the reason', () => {
    const s = new StringArgs(src);
    caps.clear();
    caps.set('1/10/99', cap('/srv/fifo'));
    expect(write((du) => s.user(1, 10, 99, du, 0))).toBe('/srv/fifo');
    caps.set('1/10/99', cap('', 'notInSyscall'));
    expect(write((du) => s.user(1, 10, 99, du, 0))).toBe('');
    caps.clear();
    expect(write((du) => s.user(1, 10, 99, du, 0))).toBe('');
    expect(write((du) => s.exitArgument(du, 0))).toBe('');
    expect(s.stats).toEqual({
      known: 1,
      fromKernel: 0,
      unknown: 3,
      reasons: { notInSyscall: 1, noResult: 1, exitArgument: 1 },
    });
    const off = new StringArgs({ noWatcher: true, capture: () => undefined });
    expect(write((du) => off.user(1, 10, 99, du, 0))).toBe('');
    expect(off.stats.reasons).toEqual({ noWatcher: 1 });
  });

  it("the kernel's copy: complete and unambiguous, else confirmed by a verified read, else unknown", () => {
    caps.clear();
    const s = new StringArgs(src, 165);
    const k = (text: string, nul = true): [Uint8Array, number, number] => {
      const b = enc.encode(text + (nul ? '\0' : ''));
      const pu = new Uint8Array(b.length + 8);
      pu.set(b, 8);
      return [pu, 8, b.length];
    };
    const kw = (text: string): string => write((du) => s.kernel(1, 10, 99, ...k(text), du, 0));
    expect(kw('/proc/self/stat')).toBe('/proc/self/stat');
    expect(s.stats.fromKernel).toBe(1);
    // A '.' may stand for an unprintable byte.
    expect(kw('/etc/ld.so.cache')).toBe('');
    caps.set('1/10/99', cap('/etc/ld.so.cache'));
    expect(kw('/etc/ld.so.cache')).toBe('/etc/ld.so.cache');
    // The real name had an unprintable byte: the verified read gives it, not the copy's '.'.
    caps.set('1/10/99', cap(new Uint8Array([0x2f, 0x61, 0x01, 0x62])));
    expect(write((du) => s.kernel(1, 10, 99, ...k('/a.b'), du, 0))).toBe('/a\u0001b');
    caps.set('1/10/99', cap('/a/b'));
    expect(kw('/a.b')).toBe('');
    // Cut at syscall_user_buf_size ("..." appended): never the kernel's copy.
    caps.clear();
    expect(kw('/x'.repeat(83) + '...')).toBe('');
    // The kernel could not copy it (fault): length 0.
    expect(write((du) => s.kernel(1, 10, 99, new Uint8Array(4), 0, 0, du, 0))).toBe('');
    expect(s.stats.reasons).toEqual({ kernelAmbiguous: 2, kernelTruncated: 1, kernelFault: 1 });
    expect(s.stats.known).toBe(3);
    // Without syscall_user_buf_size, a copy ending in "..." may be a cut one.
    const t = new StringArgs(src);
    caps.clear();
    expect(write((du) => t.kernel(1, 10, 99, ...k('/a/b...'), du, 0))).toBe('');
    expect(t.stats.reasons).toEqual({ kernelTruncated: 1 });
  });

  it("maps bytes as the kernel's isprint() does", () => {
    expect(sameAsKernelCopy(enc.encode('a.b'), enc.encode('a.b'))).toBe(true);
    expect(sameAsKernelCopy(new Uint8Array([0x61, 0x7f, 0x62]), enc.encode('a.b'))).toBe(true);
    // UTF-8 'ł' is C5 82: the continuation byte 0x82 is unprintable for the kernel.
    expect(sameAsKernelCopy(new Uint8Array([0xc5, 0x82]), new Uint8Array([0xc5, 0x2e]))).toBe(true);
    expect(sameAsKernelCopy(new Uint8Array([0xc3, 0xa9]), new Uint8Array([0xc3, 0xa9]))).toBe(true);
    expect(sameAsKernelCopy(enc.encode('ab'), enc.encode('a.'))).toBe(false);
  });

  it('newer kernels: the converter takes the string from the event (__data_loc __filename_val)', () => {
    const fmt = parseEventFormat(
      `name: sys_enter_openat
ID: 782
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:int flags;	offset:32;	size:8;	signed:0;
	field:umode_t mode;	offset:40;	size:8;	signed:0;
	field:__data_loc char[] __filename_val;	offset:48;	size:4;	signed:0;

print fmt: "dfd: 0x%08lx, filename: 0x%08lx \\"%s\\", ..."
`,
      'syscalls',
    );
    // The copy is not an argument (the args stay 4: dfd, filename, flags, mode).
    expect(argFields(fmt).map((f) => f.name)).toEqual(['dfd', 'filename', 'flags', 'mode']);
    expect(kernelCopyField(fmt, 'filename')?.offset).toBe(48);
    expect(kernelCopyField(fmt, 'dfd')).toBeUndefined();
    const plan = planSyscall('openat', fmt, fmt);
    const { fn } = compilePayload(plan.entryFields, fmt);
    const text = '/proc/self/stat';
    const rec = new Uint8Array(64 + text.length);
    const rv = new DataView(rec.buffer);
    rv.setUint32(24, 0x1000, true);
    rv.setUint32(28, 0x7f, true);
    rec.set(enc.encode(text + '\0'), 52);
    rv.setUint32(48, ((text.length + 1) << 16) | 52, true);
    let got: unknown[] = [];
    const h = {
      kernelString: (_th, lo, hi, pu, at, len, du, o) => {
        got = [lo, hi, dec.decode(pu.subarray(at, at + len))];
        du[o] = 0;
        return o + 1;
      },
      userString: () => {
        throw new Error('not this path');
      },
    } as Partial<ConvHelpers> as ConvHelpers;
    const out = new Uint8Array(64);
    fn(rv, rec, 0, new DataView(out.buffer), out, 0, undefined as never, h);
    expect(got).toEqual([0x1000, 0x7f, text + '\0']);
  });
});
