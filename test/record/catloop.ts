/**
 * The workload of issue 10: `while :; do cat /proc/self/stat >/dev/null; done` in fresh pid and
 * mount namespaces, recorded by the `nstrace` CLI (the bundled bin, as a user runs it), and the
 * same loop under `strace -f -e trace=openat` for the set of files it opens. Shared by the
 * backends' tests: `recordCatLoop(['--backend', 'bpf'])` records the same with other options.
 *
 * A process blocked in openat(2) on a FIFO for a second during the recording gives one path
 * the tracefs backend can prove (the thread is found inside that very call).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { NSTRACE, ensureBuilt } from '../helpers/cli.js';
import { readStringField, tmpDir, tracefsRoot, type StringField } from './helpers.js';

export const LOOP = 'while :; do cat /proc/self/stat >/dev/null; done';
/** The same environment for the loop under strace and under the recorder (locale files). */
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** The loop in its own pid namespace (/proc of its own), as a child of `unshare`. */
function startLoop(prefix: string[] = []): ChildProcess {
  return spawn('unshare', ['--kill-child', '--pid', '--fork', '--mount-proc', ...prefix, 'sh', '-c', LOOP], {
    stdio: 'ignore',
    env: ENV,
  });
}

function children(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Kills `unshare` (SIGKILL: it ignores SIGTERM/SIGINT while it waits; --kill-child takes the loop). */
async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

/** The files the loop opens, from strace (run for `ms`). */
export async function straceOpens(ms = 2000): Promise<Set<string>> {
  const dir = tmpDir('strace');
  const out = path.join(dir, 'openat.txt');
  try {
    const c = startLoop(['strace', '-f', '-qq', '-e', 'trace=openat', '-o', out]);
    await sleep(ms);
    await stop(c);
    const files = new Set<string>();
    for (const line of fs.readFileSync(out, 'latin1').split('\n')) {
      // 123 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3
      const m = /openat\([^,]+, "((?:[^"\\]|\\.)*)"/.exec(line);
      if (m) files.add(JSON.parse(`"${m[1]!}"`) as string);
    }
    return files;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface CatLoopRun {
  /** Exit code, output and summary of `nstrace record`. */
  code: number;
  stdout: string;
  stderr: string;
  summary: Record<string, unknown> & {
    events: number;
    lost: number;
    userStrings: { known: number; unknown: number; fromKernel: number; reasons: Record<string, number> };
    watcher?: { failed: boolean };
  };
  traceDir: string;
  /** Inode of the loop's pid namespace. */
  pidNs: number;
  /** openat entries of the loop's tasks (every task of its pid namespace). */
  loopOpens: StringField[];
  /** openat entries of the process blocked on the FIFO, and the FIFO's path. */
  fifoOpens: StringField[];
  fifo: string;
  /** pid of the process blocked on the FIFO; every openat entry of the trace. */
  fifoPid: number;
  allOpens: StringField[];
  /** Removes the trace. */
  cleanup(): void;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Records the loop for `durationS` seconds with `nstrace record ... extraArgs` (run under the
 * system lock by the caller).
 */
export async function recordCatLoop(extraArgs: string[] = [], durationS = 4): Promise<CatLoopRun> {
  ensureBuilt();
  const dir = tmpDir('catloop');
  const fifo = path.join(dir, 'blocked-open.fifo');
  execFileSync('mkfifo', [fifo]);
  const json = path.join(dir, 'summary.json');
  const loop = startLoop();
  let blocked: ChildProcess | undefined;
  try {
    let sh = 0;
    await until(() => (sh = children(loop.pid!)[0] ?? 0) > 0, 10_000, 'the loop');
    const pidNs = Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${sh}/ns/pid`))![1]);
    const rec = spawn(
      process.execPath,
      [
        NSTRACE,
        'record',
        '-o',
        dir,
        '-d',
        `${durationS}s`,
        '-e',
        'sched_switch,sched_process_*,syscall_entry_openat,syscall_entry_execve',
        '--no-containers',
        '--summary-json',
        json,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ENV } },
    );
    let stdout = '';
    let stderr = '';
    rec.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    rec.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((r) => rec.on('exit', (code) => r(code ?? -1)));
    // Once it records: a process blocked in openat on the FIFO for a second.
    const inst = path.join(tracefsRoot() ?? '/sys/kernel/tracing', 'instances', `nstrace-${rec.pid}`);
    // A new instance starts with tracing on: wait for its events to be enabled too (the
    // recorder turns tracing off, enables them, then turns it on).
    const on = (f: string): boolean => {
      try {
        return fs.readFileSync(path.join(inst, f), 'utf8').trim() === '1';
      } catch {
        return false;
      }
    };
    await until(
      () => on('events/syscalls/sys_enter_openat/enable') && on('tracing_on'),
      60_000,
      'the recorder to start tracing',
    );
    await sleep(300);
    blocked = spawn('cat', [fifo], { stdio: 'ignore', env: ENV });
    await sleep(1000);
    // A writer: the open returns in `cat`, which reads end-of-file and exits. (Non-blocking:
    // ENXIO while no reader has the FIFO open yet.)
    await until(
      () => {
        try {
          fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'cat to open the FIFO',
    );
    const code = await exited;
    const traceDir = path.join(dir, 'kernel');
    const summary = (
      fs.existsSync(json) ? JSON.parse(fs.readFileSync(json, 'utf8')) : {}
    ) as CatLoopRun['summary'];
    const opens = code === 0 ? readStringField(dir, 'syscall_entry_openat', 'filename') : [];
    return {
      code,
      stdout,
      stderr,
      summary,
      traceDir,
      pidNs,
      loopOpens: opens.filter((o) => o.pidNs === pidNs),
      fifoOpens: opens.filter((o) => o.tid === blocked!.pid),
      fifo,
      fifoPid: blocked.pid!,
      allOpens: opens,
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } finally {
    blocked?.kill('SIGKILL');
    await stop(loop);
  }
}
