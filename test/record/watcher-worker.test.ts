/**
 * The watcher's worker end to end without tracefs: it is fed a ring-buffer page (built here)
 * holding the `sys_enter_openat` of a real process blocked in openat(2) on a FIFO, and must
 * verify it through the real /proc (syscall, stat, mem) and return the path; an event whose
 * thread is not in that syscall any more gives no string, with its reason. This also runs the
 * worker's source the way the recorder does (serialised), so a reference to anything outside
 * it fails here rather than in a recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Watcher } from '../../src/record/tracefs/watcher.js';
import { parseHeaderEvent, parseHeaderPage } from '../../src/record/format.js';
import { boottimeMinusMonoNs } from '../../src/record/proc.js';
import { tmpDir } from './helpers.js';

const HEADER_PAGE = `	field: u64 timestamp;	offset:0;	size:8;	signed:0;
	field: local_t commit;	offset:8;	size:8;	signed:1;
	field: int overwrite;	offset:8;	size:1;	signed:1;
	field: char data;	offset:16;	size:4080;	signed:0;
`;
const HEADER_EVENT = `# compressed entry header
	type_len    :    5 bits
	time_delta  :   27 bits
	array       :   32 bits

	padding     : type == 29
	time_extend : type == 30
	time_stamp : type == 31
	data max type_len  == 28
`;

const ENTER = 782;
const EXIT = 781;
const NEWTASK = 300;

/** One page: records at absolute mono times (ns), each `[ts, bytes]`. */
function page(events: Array<[bigint, Uint8Array]>): Buffer {
  const buf = Buffer.alloc(4096);
  const v = new DataView(buf.buffer, buf.byteOffset, 4096);
  v.setBigUint64(0, events[0]![0], true);
  let off = 16;
  let t = events[0]![0];
  for (const [ts, rec] of events) {
    const delta = Number(ts - t);
    t = ts;
    v.setUint32(off, ((rec.length / 4) | (delta << 5)) >>> 0, true);
    buf.set(rec, off + 4);
    off += 4 + rec.length;
  }
  v.setUint32(8, off - 16, true);
  return buf;
}

function openatRecord(pid: number, args: bigint[]): Uint8Array {
  const r = new Uint8Array(48);
  const v = new DataView(r.buffer);
  v.setUint16(0, ENTER, true);
  v.setInt32(4, pid, true);
  v.setInt32(8, 257, true);
  args.forEach((a, i) => v.setBigUint64(16 + 8 * i, a, true));
  return r;
}

function newtaskRecord(parent: number, child: number): Uint8Array {
  const r = new Uint8Array(16);
  const v = new DataView(r.buffer);
  v.setUint16(0, NEWTASK, true);
  v.setInt32(4, parent, true);
  v.setInt32(8, child, true);
  return r;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir = '';
let fifo = '';
let cat: ChildProcess | undefined;

beforeAll(() => {
  dir = tmpDir('watchw');
  fifo = path.join(dir, 'the-fifo');
  execFileSync('mkfifo', [fifo]);
});

afterAll(() => {
  cat?.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('watcher worker (fake ring buffer, real /proc)', () => {
  it('verifies the path of a thread blocked in openat, and refuses a thread that is not', async () => {
    // cat blocks in openat(2) until the FIFO has a writer (never, here).
    cat = spawn('cat', [fifo], { stdio: 'ignore' });
    const pid = cat.pid!;
    let line = '';
    await until(() => {
      try {
        line = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8');
      } catch {
        return false;
      }
      return line.startsWith('257 ');
    });
    const args = line
      .trim()
      .split(' ')
      .slice(1, 5)
      .map((x) => BigInt(x));
    const ptr = Number(args[1]!);
    const mono = process.hrtime.bigint();
    const baseHi = Number(mono >> 32n);
    const baseBig = BigInt(baseHi) << 32n;
    // Two events: the blocked openat, and one "of" this process (not in openat: refused).
    const t1 = mono - 1_000_000n;
    const cpu0 = path.join(dir, 'cpu0');
    fs.writeFileSync(
      cpu0,
      page([
        [t1, openatRecord(pid, args)],
        [t1 + 1000n, openatRecord(process.pid, args)],
        [t1 + 2000n, newtaskRecord(process.pid, pid)],
      ]),
    );
    const w = new Watcher({
      cpuFiles: [cpu0],
      statFiles: [path.join(dir, 'no-stats')],
      pageSize: 4096,
      page: parseHeaderPage(HEADER_PAGE),
      header: parseHeaderEvent(HEADER_EVENT),
      baseHi,
      specs: [
        { id: ENTER, kind: 'str', ptrOffsets: [24], argOffsets: [16, 24, 32, 40], nrOffset: 8 },
        { id: EXIT, kind: 'sysexit' },
        { id: NEWTASK, kind: 'newtask', pidOffset: 8 },
      ],
      startShift: boottimeMinusMonoNs() + Number(baseBig),
      startSlackNs: 30_000_000,
      onError: (e) => {
        throw e;
      },
    });
    try {
      const ts = Number(t1 - baseBig);
      await until(() => w.drain() > ts + 3000 || w.failed !== undefined);
      expect(w.failed).toBeUndefined();
      const got = w.string(pid, ts, ptr);
      expect(got?.reason).toBeUndefined();
      expect(Buffer.from(got!.bytes).toString()).toBe(fifo);
      const other = w.string(process.pid, ts + 1000, ptr);
      expect(other?.reason).toBe('notInSyscall');
      // The newtask snapshot of the blocked process: its namespaces as /proc shows them.
      const snap = w.snapshot(pid, ts + 2000);
      expect(snap).toBeDefined();
      const netIno = Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))![1]);
      expect(snap!.ns[2]).toBe(netIno);
      expect(snap!.nsTids[0]).toBe(pid);
      expect(w.stats.strEvents).toBe(2);
      expect(w.stats.strOk).toBe(1);
    } finally {
      await w.stop();
    }
  });
});
