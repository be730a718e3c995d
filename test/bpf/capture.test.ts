/**
 * The capture programs against the kernel: they load (the verifier accepts them), and the
 * context block of a record equals what /proc says of the task that made it.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BTF_INT_ID, BTF_VALUE_ID, loadBtf, valueBtf } from '../../src/bpf/btf-blob.js';
import { BPF_F_NO_PREALLOC, BpfMap, MAP_TYPE } from '../../src/bpf/objects.js';
import { type BpfError, closeFd } from '../../src/bpf/sys.js';
import { Capture, tracepointId, type CaptureOptions } from '../../src/record/bpf/capture.js';
import { contextLayout, type BpfContextName } from '../../src/record/bpf/kernel.js';
import {
  FLAG_ARGS,
  FLAG_CTX_REF,
  FLAG_CTX_SAME,
  FLAG_CTX_UNKNOWN,
  HDR,
  KIND_RAW,
} from '../../src/record/bpf/layout.js';
import { ContextRefs } from '../../src/record/bpf/context-refs.js';
import { locateTracefs } from '../../src/record/tracefs.js';
import { bpfSkip } from './helpers.js';

const CONTEXTS: BpfContextName[] = [
  'pid_ns',
  'user_ns',
  'net_ns',
  'mnt_ns',
  'uts_ns',
  'ipc_ns',
  'cgroup_ns',
  'time_ns',
  'vpid',
  'vtid',
  'tid',
  'pid',
  'procname',
  'ppid',
  'vppid',
  'cgroup_id',
];

/** A capture of read(2), entry and exit (its arguments saved for the exit); `more` on top. */
function readCapture(more: Partial<CaptureOptions>): { cap: Capture; enterId: number; exitId: number } {
  const root = locateTracefs({ mount: true }).root;
  const enterId = tracepointId(root, 'syscalls:sys_enter_read')!;
  const exitId = tracepointId(root, 'syscalls:sys_exit_read')!;
  const cap = new Capture({
    contexts: CONTEXTS,
    tracepoints: [],
    syscalls: [{ nr: 0, enterId, exitId, strings: [], saveArgs: true }],
    fork: false,
    ringBytes: 1 << 20,
    excludeTgids: [],
    excludeChildren: false,
    select: false,
    ...more,
  });
  return { cap, enterId, exitId };
}

function nsInode(type: string): number {
  return fs.statSync(`/proc/self/ns/${type}`).ino;
}

describe.skipIf(bpfSkip())('bpf capture programs', () => {
  it("load, attach, and write the current task's context, a syscall's string and its exit's entry arguments", () => {
    const root = locateTracefs({ mount: true }).root;
    const enterId = tracepointId(root, 'syscalls:sys_enter_read')!;
    const exitId = tracepointId(root, 'syscalls:sys_exit_read')!;
    const chdirE = tracepointId(root, 'syscalls:sys_enter_chdir')!;
    const chdirX = tracepointId(root, 'syscalls:sys_exit_chdir')!;
    const cap = new Capture({
      contexts: CONTEXTS,
      tracepoints: [],
      syscalls: [
        { nr: 0, enterId, exitId, strings: [], saveArgs: true },
        { nr: 80, enterId: chdirE, exitId: chdirX, strings: [0], saveArgs: false },
      ],
      fork: true,
      ringBytes: 1 << 20,
      excludeTgids: [],
      excludeChildren: false,
      select: false,
    });
    try {
      // Nothing is recorded until the switch is on (every program checks it first).
      fs.readFileSync('/proc/self/stat');
      let before = 0;
      cap.ring.consume(() => before++);
      expect(before, 'records while off').toBe(0);
      cap.setOn(true);
      const fd = fs.openSync('/proc/self/stat', 'r');
      fs.readSync(fd, Buffer.alloc(7), 0, 7, null);
      fs.closeSync(fd);
      process.chdir('/tmp');
      const recs: Array<{ off: number; len: number; buf: Buffer }> = [];
      cap.ring.consume((off, len) => {
        recs.push({ off, len, buf: Buffer.from(cap.ring.data.subarray(off, off + len)) });
      });
      const mine = recs.filter((r) => r.buf.readUInt32LE(20) === process.pid);
      expect(recs.length, 'records').toBeGreaterThan(0);
      const lay = contextLayout(CONTEXTS);
      const at = (c: BpfContextName): number => HDR + lay.offsets.get(c)!;
      const ids = mine.map((r) => r.buf.readUInt16LE(cap.rawOff));
      expect(ids).toContain(enterId);
      expect(ids).toContain(exitId);
      expect(ids).toContain(chdirE);
      const r = mine.find((x) => x.buf.readUInt16LE(cap.rawOff) === enterId)!.buf;
      expect(r.readUInt32LE(at('pid_ns'))).toBe(nsInode('pid'));
      expect(r.readUInt32LE(at('net_ns'))).toBe(nsInode('net'));
      expect(r.readUInt32LE(at('mnt_ns'))).toBe(nsInode('mnt'));
      expect(r.readUInt32LE(at('user_ns'))).toBe(nsInode('user'));
      expect(r.readUInt32LE(at('time_ns'))).toBe(nsInode('time'));
      expect(r.readInt32LE(at('pid'))).toBe(process.pid);
      expect(r.readInt32LE(at('tid'))).toBe(r.readInt32LE(16));
      expect(r.readInt32LE(at('vtid'))).toBe(r.readInt32LE(16));
      expect(r.readInt32LE(at('vpid'))).toBe(process.pid);
      expect(r.readInt32LE(at('ppid'))).toBe(process.ppid);
      expect(r.readBigUInt64LE(at('cgroup_id'))).toBe(
        BigInt(
          fs.statSync(
            '/sys/fs/cgroup/unified' +
              (/^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))![1] ?? '/'),
          ).ino,
        ),
      );
      const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
      expect(r.toString('latin1', at('procname'), at('procname') + comm.length)).toBe(comm);
      // The read exit carries the entry's arguments (fd, buf, count = 7).
      const x = mine.find((y) => y.buf.readUInt16LE(cap.rawOff) === exitId)!.buf;
      expect(x[12]! & FLAG_ARGS).toBe(FLAG_ARGS);
      expect(x.readBigUInt64LE(cap.rawOff + 24 + 16)).toBe(7n);
      const c = mine.find((x) => x.buf.readUInt16LE(cap.rawOff) === chdirE)!.buf;
      const str = c.toString('latin1', cap.rawOff + 64, c.indexOf(0, cap.rawOff + 64));
      expect(str).toBe('/tmp');
    } finally {
      cap.close();
    }
  });
});

describe.skipIf(bpfSkip())('the BTF blob of the task storage maps', () => {
  it('loads, and a task storage map of that value size is created with it; another size is refused', () => {
    const fd = loadBtf(valueBtf(56), 'a test map');
    try {
      const spec = {
        type: MAP_TYPE.TASK_STORAGE,
        keySize: 4,
        maxEntries: 0,
        flags: BPF_F_NO_PREALLOC,
        name: 'nstrace_t',
        btf: { fd, keyTypeId: BTF_INT_ID, valueTypeId: BTF_VALUE_ID },
      };
      const m = new BpfMap({ ...spec, valueSize: 56 });
      m.close();
      // The kernel checks the value's BTF size against value_size: the ids do name our types.
      expect(() => new BpfMap({ ...spec, valueSize: 64 })).toThrow(/EINVAL/);
    } finally {
      closeFd(fd);
    }
  });

  it('a broken blob is refused with the kernel log', () => {
    const bad = valueBtf(56);
    bad.writeUInt32LE(99, 24 + 4 * 9); // the array's element type: no such type
    expect(() => loadBtf(bad, 'a broken blob')).toThrow(/loading the BTF of a broken blob failed: EINVAL/);
    try {
      loadBtf(bad, 'a broken blob');
    } catch (err) {
      expect((err as BpfError).log ?? '').toMatch(/type/i);
    }
  });
});

describe.skipIf(bpfSkip())('context blocks left out of syscall records (elideContexts)', () => {
  it('a repeated block stays out of the ring, and the block put back is the one the kernel compared with', () => {
    const { cap, enterId, exitId } = readCapture({ elideContexts: true });
    try {
      cap.setOn(true);
      const fd = fs.openSync('/proc/self/stat', 'r');
      for (let i = 0; i < 20; i++) fs.readSync(fd, Buffer.alloc(7), 0, 7, null);
      fs.closeSync(fd);
      cap.setOn(false);
      const size = contextLayout(CONTEXTS).size;
      const refs = new ContextRefs(size, cap.rawOff);
      const whole: Buffer[] = [];
      let same = 0;
      let ref = 0;
      cap.ring.consume((off, len) => {
        const u = cap.ring.data;
        const flags = u[off + 12]!;
        const at = refs.see(u, cap.ring.words, off, len, cap.ring.view.getUint32(off + 8, true));
        if ((flags & FLAG_CTX_SAME) !== 0) same++;
        if ((flags & FLAG_CTX_REF) !== 0) ref++;
        const rec = at < 0 ? u.subarray(off, off + len) : refs.buf.subarray(at, at + len + cap.rawOff - HDR);
        if (Buffer.from(rec).readUInt32LE(20) === process.pid) whole.push(Buffer.from(rec));
      });
      // 40 records of this thread, mostly on one CPU with one context: most leave it out.
      expect(whole.length).toBeGreaterThanOrEqual(40);
      expect(same, 'records whose block stayed out').toBeGreaterThan(20);
      expect(ref, 'reference records').toBeGreaterThan(0);
      expect(refs.restored).toBe(same);
      expect(refs.unresolved).toBe(0);
      // Made whole, every record of this thread carries this thread's context, with no flag left.
      const at = (c: BpfContextName): number => HDR + contextLayout(CONTEXTS).offsets.get(c)!;
      for (const r of whole) {
        expect(r[12]! & (FLAG_CTX_SAME | FLAG_CTX_UNKNOWN)).toBe(0);
        expect(r.readUInt32LE(at('pid_ns'))).toBe(nsInode('pid'));
        expect(r.readUInt32LE(at('mnt_ns'))).toBe(nsInode('mnt'));
        expect(r.readInt32LE(at('tid'))).toBe(r.readInt32LE(16));
        expect(r.readInt32LE(at('pid'))).toBe(process.pid);
        expect(r.readInt32LE(at('ppid'))).toBe(process.ppid);
        const id = r.readUInt16LE(cap.rawOff);
        expect([enterId, exitId]).toContain(id);
        // The raw area is where a whole record has it: the read's count (7) in the entry, the
        // entry's arguments in the exit.
        if (id === enterId) expect(r.readBigUInt64LE(cap.rawOff + 32)).toBe(7n);
        else expect(r.readBigUInt64LE(cap.rawOff + 24 + 16)).toBe(7n);
      }
    } finally {
      cap.close();
    }
  });
});

describe.skipIf(bpfSkip())('exclusion of the recorder (excludeTgids, excludeChildren)', () => {
  /** tgids of the syscall records written while this process and a child (cat) read. */
  function run(excludeChildren: boolean): { tgids: Set<number>; child: number } {
    const { cap } = readCapture({
      fork: true,
      ringBytes: 1 << 22,
      excludeTgids: [process.pid],
      excludeChildren,
      elideContexts: true,
    });
    try {
      cap.setOn(true);
      const fd = fs.openSync('/proc/self/stat', 'r');
      for (let i = 0; i < 20; i++) fs.readSync(fd, Buffer.alloc(7), 0, 7, null);
      fs.closeSync(fd);
      const child = spawnSync('cat', ['/proc/self/stat'], { encoding: 'utf8' });
      expect(child.status).toBe(0);
      cap.setOn(false);
      // The syscall records (the fork's record is of the complete set: kept for everyone).
      const tgids = new Set<number>();
      cap.ring.consume((off) => {
        if (cap.ring.data[off + 13] === KIND_RAW) tgids.add(cap.ring.view.getInt32(off + 20, true));
      });
      return { tgids, child: child.pid! };
    } finally {
      cap.close();
    }
  }

  it('writes no record of the excluded process; of its children only without excludeChildren', () => {
    const excl = run(true);
    expect(excl.tgids.has(process.pid), 'records of the excluded process').toBe(false);
    expect(excl.tgids.has(excl.child), 'records of its child (excludeChildren)').toBe(false);
    const incl = run(false);
    expect(incl.tgids.has(process.pid), 'records of the excluded process').toBe(false);
    expect(incl.tgids.has(incl.child), 'records of its child (not excluded)').toBe(true);
  });
});
