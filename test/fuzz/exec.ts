/**
 * Runs one command on one mutant in a child process and classifies how it ended:
 *
 * - `ok`: exit 0;
 * - `error`: exit 1, 2 or 3 with exactly one `nstrace: error: ` line, the last line of stderr,
 *   and no stack trace (other stderr lines are warnings);
 * - `unclean`: a non-zero exit that is neither (an error message over several lines, ...);
 * - `crash`: exit 70 (`internal error`), a stack trace, a signal or any other exit code;
 * - `hang`: still running after the timeout (killed);
 * - `memory`: resident memory above the cap (killed when seen), or V8 out of heap.
 *
 * The child runs with `--max-old-space-size` at the cap, so a runaway heap dies there rather
 * than swapping; its peak RSS comes from `process.resourceUsage().maxRSS` written at exit by a
 * preloaded probe (`rss-probe.mjs`), and /proc is polled meanwhile to kill it over the cap.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './seeds.js';

export type Outcome = 'ok' | 'error' | 'unclean' | 'crash' | 'hang' | 'memory';
export const FAILURES: readonly Outcome[] = ['unclean', 'crash', 'hang', 'memory'];

export interface RunLimits {
  /**
   * Hang limit (ms): that much CPU time, or that long without using any CPU (a deadlock), or
   * 15 times that much wall-clock time. CPU time rather than wall time, because the machine is
   * shared: a run starved of CPU by other work is slow, not hung.
   */
  readonly timeoutMs: number;
  /** Resident memory cap (MiB). */
  readonly memCapMb: number;
}

export const DEFAULT_LIMITS: RunLimits = { timeoutMs: 20_000, memCapMb: 2048 };

export interface RunResult {
  readonly outcome: Outcome;
  readonly code: number | null;
  readonly signal: string | null;
  readonly ms: number;
  /** Peak resident set (KiB): exact from the probe, else the highest value polled, else undefined. */
  readonly rssKb: number | undefined;
  /** The first 4 KiB of stderr. */
  readonly stderr: string;
  /** One line saying why this outcome (the error line, the crash's first line, ...). */
  readonly reason: string;
}

/** The CLI under test: the build of this tree, or $NSTRACE_FUZZ_BIN (another build, to compare). */
export const NSTRACE = process.env.NSTRACE_FUZZ_BIN ?? join(ROOT, 'dist/bin/nstrace.js');
const PROBE = pathToFileURL(join(ROOT, 'test/fuzz/rss-probe.mjs')).href;

/** The commands of a fuzz run: `print` and the analyses. */
export const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  print: ['print'],
  cputop: ['cputop', '--no-progress'],
  memtop: ['memtop', '--no-progress'],
  syscallstats: ['syscallstats', '--no-progress'],
  top: ['top', '--no-progress'],
};

let probeSeq = 0;

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** CPU time (ms) used so far by a process (all its threads), from /proc/<pid>/stat. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

function readRss(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * What the threads of a hung process are doing, from /proc: name, state, kernel wait channel,
 * and the kernel stack of the main thread (readable as root). One line per thread.
 */
function threadsOf(pid: number): string {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'latin1').trim();
    } catch {
      return '?';
    }
  };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 'process gone';
  }
  const lines = tids.map((tid) => {
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
    return `${tid} ${read(`/proc/${pid}/task/${tid}/comm`)} ${state} ${read(`/proc/${pid}/task/${tid}/wchan`)}`;
  });
  const stack = read(`/proc/${pid}/task/${pid}/stack`)
    .split('\n')
    .map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '').replace(/\+0x[0-9a-f/x]+$/, ''))
    .slice(0, 8)
    .join(' < ');
  return `${lines.join('; ')}; main thread kernel stack: ${stack}`;
}

/** Runs `cmd` with `args`, killing its process group on timeout or above the memory cap. */
export function runChild(
  cmd: string,
  args: readonly string[],
  limits: RunLimits,
  env: NodeJS.ProcessEnv = {},
): Promise<{
  code: number | null;
  signal: string | null;
  ms: number;
  timedOut: boolean;
  /** Why it was declared hung: CPU time, no CPU use at all, or wall time. */
  hang: string;
  /** CPU time used (ms), as last polled. */
  cpuMs: number;
  overMemory: boolean;
  polledKb: number | undefined;
  stderr: string;
}> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('latin1');
    });
    let timedOut = false;
    let overMemory = false;
    let polledKb: number | undefined;
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let hang = '';
    let cpu = 0;
    let progressAt = t0;
    const hung = (why: string): void => {
      if (timedOut) return;
      timedOut = true;
      hang = child.pid === undefined ? why : `${why}; threads: ${threadsOf(child.pid)}`;
      kill();
    };
    const timer = setTimeout(
      () => hung(`still running after ${(15 * limits.timeoutMs) / 1000} s`),
      15 * limits.timeoutMs,
    );
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const now = Date.now();
      const c = cpuMs(child.pid);
      if (c !== undefined && c > cpu) {
        cpu = c;
        progressAt = now;
      }
      if (cpu >= limits.timeoutMs) hung(`${(cpu / 1000).toFixed(1)} s of CPU time`);
      else if (now - progressAt >= limits.timeoutMs)
        hung(`no CPU used for ${((now - progressAt) / 1000).toFixed(1)} s (deadlock or wait)`);
      const kb = readRss(child.pid, 'VmHWM');
      if (kb !== undefined) polledKb = Math.max(polledKb ?? 0, kb);
      if (kb !== undefined && kb > limits.memCapMb * 1024) {
        overMemory = true;
        kill();
      }
    }, 100);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({
        code,
        signal,
        ms: Date.now() - t0,
        timedOut,
        hang,
        cpuMs: cpu,
        overMemory,
        polledKb,
        stderr,
      });
    });
  });
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** Classifies an nstrace run from its exit and stderr. */
export function classify(r: {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  hang?: string;
  overMemory: boolean;
  stderr: string;
}): { outcome: Outcome; reason: string } {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  const last = lines[lines.length - 1] ?? '';
  if (r.overMemory) return { outcome: 'memory', reason: 'resident memory above the cap' };
  if (/JavaScript heap out of memory|Reached heap limit|Allocation failed/.test(r.stderr))
    return { outcome: 'memory', reason: 'V8 heap out of memory' };
  if (r.timedOut) return { outcome: 'hang', reason: `hung: ${r.hang ?? 'timed out'}` };
  const internal = lines.find((l) => l.includes('internal error')) ?? '';
  if (r.code === 70 || internal !== '')
    return { outcome: 'crash', reason: internal !== '' ? internal : `exit 70: ${last}` };
  if (STACK_LINE.test(r.stderr)) return { outcome: 'crash', reason: `stack trace: ${lines[0] ?? ''}` };
  if (r.signal !== null) return { outcome: 'crash', reason: `killed by ${r.signal}` };
  if (r.code === 0) return { outcome: 'ok', reason: '' };
  if (r.code === 1 || r.code === 2 || r.code === 3) {
    const errors = lines.filter((l) => l.startsWith('nstrace: error: '));
    if (errors.length === 1 && last.startsWith('nstrace: error: ')) return { outcome: 'error', reason: last };
    return {
      outcome: 'unclean',
      reason: `exit ${r.code}, ${errors.length} error line(s), last line: ${JSON.stringify(last.slice(0, 200))}`,
    };
  }
  return { outcome: 'crash', reason: `exit ${r.code}: ${last}` };
}

/** Runs `nstrace <command> <dir>` and classifies it. */
export async function runNstrace(
  command: string,
  dir: string,
  limits: RunLimits = DEFAULT_LIMITS,
  bin: string = NSTRACE,
): Promise<RunResult> {
  const base = COMMANDS[command];
  if (base === undefined) throw new Error(`fuzz: unknown command ${command}`);
  const rssFile = join(tmpdir(), `nstrace-fuzz-rss-${process.pid}-${probeSeq++}`);
  try {
    const r = await runChild(
      process.execPath,
      [`--max-old-space-size=${limits.memCapMb}`, '--import', PROBE, bin, ...base, dir],
      limits,
      { NSTRACE_FUZZ_RSS_FILE: rssFile },
    );
    let rssKb: number | undefined;
    try {
      rssKb = Number(readFileSync(rssFile, 'utf8'));
    } catch {
      rssKb = r.polledKb;
    }
    const c = classify(r);
    const outcome: Outcome =
      c.outcome === 'ok' || c.outcome === 'error' ? overCap(rssKb, limits, c.outcome) : c.outcome;
    return {
      outcome,
      code: r.code,
      signal: r.signal,
      ms: r.ms,
      rssKb,
      stderr: r.stderr,
      reason: outcome === 'memory' && c.outcome !== 'memory' ? `peak RSS ${rssKb} KiB` : c.reason,
    };
  } finally {
    rmSync(rssFile, { force: true });
  }
}

function overCap(rssKb: number | undefined, limits: RunLimits, o: Outcome): Outcome {
  return rssKb !== undefined && rssKb > limits.memCapMb * 1024 ? 'memory' : o;
}

// ---- babeltrace2, for comparison ---------------------------------------------------------------

export type Bt2Outcome = 'ok' | 'error' | 'assertion' | 'crash' | 'hang' | 'memory';

/**
 * Runs `babeltrace2 <dir>` (output discarded) and classifies it: exit 0 `ok`; exit 1 `error`;
 * a GLib critical or failed assertion message with a normal exit `assertion`; a signal or an
 * abort `crash`; `hang` and `memory` as for nstrace (peak RSS polled every 100 ms).
 */
export async function runBabeltrace2(
  dir: string,
  limits: RunLimits = DEFAULT_LIMITS,
): Promise<{ outcome: Bt2Outcome; ms: number; rssKb: number | undefined; reason: string }> {
  const r = await runChild('babeltrace2', [dir], limits);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  let outcome: Bt2Outcome;
  let reason = '';
  if (r.overMemory) outcome = 'memory';
  else if (r.timedOut) outcome = 'hang';
  else if (r.signal !== null || (r.code !== null && r.code > 128)) {
    outcome = 'crash';
    reason = r.signal ?? `exit ${r.code}`;
  } else if (/CRITICAL|Assertion|assertion/.test(r.stderr)) {
    outcome = 'assertion';
    reason = lines.find((l) => /CRITICAL|ssertion/.test(l)) ?? '';
  } else outcome = r.code === 0 ? 'ok' : 'error';
  return { outcome, ms: r.ms, rssKb: r.polledKb, reason: reason.slice(0, 200) };
}
