/**
 * bpf backend through the CLI: `--container <pid-ns inode>` records that container's tasks and
 * no other task's; the openat filenames of a namespaced `cat` loop are what strace sees that
 * loop open (0 wrong, >= 99 % known); a recorder killed with SIGKILL or stopped with SIGINT
 * leaves no BPF program in the kernel.
 *
 * Needs root and BPF: skipped elsewhere, failing (not skipped) when CI=true.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadedProgramNames } from '../../src/bpf/objects.js';
import { NSTRACE, ensureBuilt, nstraceAsync } from '../helpers/cli.js';
import { babeltrace2, tmpDir } from './helpers.js';
import { readEvents, type Ev } from './bpf-trace.js';
import { bpfSkip } from '../bpf/helpers.js';

const skip = bpfSkip();
const LOOP = 'while :; do cat /proc/self/stat > /dev/null; done';

function spawnLoop(prefix: string[]): ChildProcess {
  const cmd = [...prefix, 'sh', '-c', LOOP];
  return spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore', detached: true });
}

function killGroup(p: ChildProcess): void {
  try {
    process.kill(-p.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}

/** The pid-namespace inode of the loop under `unshare --pid --fork` (its forked child's). */
async function childPidNs(p: ChildProcess): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/);
      if (kids[0]) return fs.statSync(`/proc/${kids[0]}/ns/pid`).ino;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the namespaced loop did not start');
}

/** Filenames strace sees a namespaced cat loop open (run once, untraced by us). */
function straceOpens(dir: string): Set<string> {
  const file = path.join(dir, 'strace.txt');
  const loop = 'i=0; while [ $i -lt 50 ]; do cat /proc/self/stat > /dev/null; i=$((i+1)); done';
  const r = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-e',
      'trace=openat',
      '-o',
      file,
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      'sh',
      '-c',
      loop,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  expect(r.status).toBe(0);
  const names = new Set<string>();
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/openat\([^,]*, "((?:[^"\\]|\\.)*)"/g))
    names.add(m[1]!);
  return names;
}

const programsLeft = (): string[] => loadedProgramNames().filter((n) => n.startsWith('nstrace_'));

async function noProgramsLeft(): Promise<string[]> {
  // The kernel frees programs after their last fd closes, a little later (deferred work).
  let left = programsLeft();
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = programsLeft();
  }
  return left;
}

let out = '';
let events: Ev[] = [];
let ns = 0;
let strace = new Set<string>();
let bt = { status: -1, stderr: '' };
let cli = { status: -1 as number | null, stderr: '' };

beforeAll(async () => {
  if (skip) return;
  ensureBuilt();
  out = tmpDir('bpfsel');
  strace = straceOpens(out);
  const inner = spawnLoop(['unshare', '--pid', '--fork', '--mount-proc']);
  const host = spawnLoop([]);
  try {
    ns = await childPidNs(inner);
    const r = await nstraceAsync([
      'record',
      '--backend',
      'bpf',
      '--container',
      String(ns),
      '-e',
      'sched_switch,sched_process_fork,syscall_entry_openat',
      '-d',
      '4s',
      '--no-progress',
      '-o',
      path.join(out, 't'),
    ]);
    cli = { status: r.code, stderr: r.stderr };
  } finally {
    killGroup(inner);
    killGroup(host);
  }
  events = readEvents(path.join(out, 't'));
  const b = babeltrace2([path.join(out, 't')]);
  bt = { status: b.status, stderr: b.stderr };
}, 240_000);

afterAll(() => {
  if (out && !process.env.KEEP_TRACE) fs.rmSync(out, { recursive: true, force: true });
});

describe.skipIf(skip)('bpf backend: record-time selection and syscall strings', () => {
  it('records, and babeltrace2 reads the trace cleanly', () => {
    expect(cli.status, cli.stderr).toBe(0);
    expect(bt.status).toBe(0);
    expect(bt.stderr).toBe('');
  });

  it("--container <pid-ns inode>: that container's syscalls, no other task's", () => {
    const sys = events.filter((e) => e.name.startsWith('syscall_'));
    expect(sys.length).toBeGreaterThan(1000);
    const other = sys.filter((e) => e.ctx.pid_ns !== String(ns));
    expect(other.map((e) => `${e.name} ${e.ctx.procname} ${e.ctx.tid}`).slice(0, 5)).toEqual([]);
    // Scheduling events are kept when either side is in the container: a task of the
    // container is one with an event in it, or one its fork record puts there (a task forked
    // near the end may be switched in before its first syscall, more often on a busy machine).
    const tids = new Set(events.filter((e) => e.ctx.pid_ns === String(ns)).map((e) => e.ctx.tid));
    for (const e of events)
      if (e.name === 'sched_process_fork' && e.f.child_ns_inum === String(ns)) tids.add(e.f.child_tid);
    const sw = events.filter((e) => e.name === 'sched_switch');
    expect(sw.length).toBeGreaterThan(0);
    for (const e of sw)
      expect(e.ctx.pid_ns === String(ns) || tids.has(e.f.next_tid!), e.f.next_comm).toBe(true);
  });

  it('openat filenames of the cat loop: >= 99 % known, every known one seen by strace', () => {
    const opens = events.filter((e) => e.name === 'syscall_entry_openat');
    const known = opens.filter((e) => e.f.filename !== '');
    console.warn(`openat: ${known.length}/${opens.length} known; strace saw ${[...strace].join(', ')}`);
    const wrong = known.filter((e) => !strace.has(e.f.filename!));
    expect(wrong.map((e) => e.f.filename).slice(0, 5)).toEqual([]);
    // Issue 10's bar. Strings in pages not resident at syscall entry (no faults are allowed
    // there) are read at the syscall's exit when that is provably the same bytes (ADR 0164);
    // 98.6 % known without that, 100 % with it here.
    expect(known.length).toBeGreaterThanOrEqual(opens.length * 0.99);
  });
});

describe.skipIf(skip)('bpf backend: nothing left in the kernel', () => {
  async function startRecorder(dir: string): Promise<ChildProcess> {
    const p = spawn(process.execPath, [NSTRACE, 'record', '--backend', 'bpf', '--no-progress', '-o', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Started: the trace's metadata exists and the programs are in the kernel.
    for (let i = 0; i < 600; i++) {
      if (fs.existsSync(path.join(dir, 'kernel', 'metadata')) && programsLeft().length > 0) return p;
      await new Promise((r) => setTimeout(r, 50));
    }
    p.kill('SIGKILL');
    throw new Error('recorder did not start');
  }

  it('after SIGKILL', async () => {
    expect(programsLeft()).toEqual([]);
    const p = await startRecorder(path.join(tmpDir('bpfkill'), 't'));
    const exited = new Promise((r) => p.on('exit', r));
    p.kill('SIGKILL');
    await exited;
    expect(await noProgramsLeft()).toEqual([]);
  }, 120_000);

  it('after SIGINT, with a readable trace', async () => {
    const dir = path.join(tmpDir('bpfint'), 't');
    const p = await startRecorder(dir);
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    p.kill('SIGINT');
    expect(await exited, stderr).toBe(0);
    expect(await noProgramsLeft()).toEqual([]);
    const b = babeltrace2([dir]);
    expect(b.status).toBe(0);
  }, 120_000);
});
