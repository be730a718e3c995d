/**
 * Test harness for the relay tests: real LTTng daemons on free ports with private state.
 *
 * - `LttngSessiond`: an `lttng-sessiond --no-kernel` in its own mount and PID namespace (a
 *   private tmpfs on /run/lttng and /dev/shm), so that parallel tests and whatever root
 *   session daemon already runs on the machine never see each other. Optionally in its own
 *   UTS namespace with its own hostname (a "container"). Commands and the workload run inside
 *   it with `nsenter`. Killing the namespace's init tears everything in it down.
 * - `LttngRelayd`: the real relay daemon on three free ports.
 * - `buildWorkload()`: compiles the lttng-ust test program once per test file.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { parseIndexFile } from '../../src/ctf/index-file.js';
import * as C from '../../src/relay/codec.js';
import { freePort, sleep } from './raw.js';
import { capabilityMissing } from '../helpers/require.js';

export const execFileP = promisify(execFile);

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Why the tests against real LTTng (sessiond, relayd, lttng-ust) cannot run here, or null.
 * Through the capability gate: under CI=true a missing piece fails the run instead of skipping.
 */
export function lttngUnavailable(): string | null {
  return (
    capabilityMissing('root', () =>
      process.getuid?.() === 0 ? undefined : 'needs root (private mount/PID namespaces for lttng-sessiond)',
    ) ??
    capabilityMissing('lttng-tools 2.13 (lttng, lttng-sessiond, lttng-relayd)', () => {
      for (const b of ['/usr/bin/lttng', '/usr/bin/lttng-sessiond', '/usr/bin/lttng-relayd']) {
        if (!existsSync(b)) return `${b} is missing`;
      }
      return undefined;
    }) ??
    capabilityMissing('babeltrace2', () =>
      existsSync('/usr/bin/babeltrace2') ? undefined : '/usr/bin/babeltrace2 is missing',
    ) ??
    capabilityMissing('liblttng-ust-dev', () =>
      existsSync('/usr/include/x86_64-linux-gnu/lttng/tracepoint.h') ||
      existsSync('/usr/include/lttng/tracepoint.h')
        ? undefined
        : 'lttng/tracepoint.h is missing',
    ) ??
    null
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `nstrace-${prefix}-`));
}

// (Defined in raw.ts, which scripts outside vitest can import; this file imports vitest.)
export { freePort, sleep };

/** Polls `cond` every 50 ms until it is true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Compiles the lttng-ust workload (`wl COUNT [SLEEP_US [MSG]]`) into `dir`; returns its path. */
export async function buildWorkload(dir: string): Promise<string> {
  const src = join(HERE, 'workload');
  const out = join(dir, 'wl');
  await execFileP('gcc', [
    '-O2',
    `-I${src}`,
    '-o',
    out,
    join(src, 'wl.c'),
    join(src, 'tp.c'),
    '-llttng-ust',
    '-ldl',
  ]);
  return out;
}

/** Kills a process we started and waits for it to be gone. */
async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await Promise.race([gone, sleep(10_000)]);
}

export class LttngSessiond {
  private constructor(
    private readonly child: ChildProcess,
    /** Host PID of the namespace's init (a shell); `nsenter -t` target. */
    readonly nsPid: number,
    readonly home: string,
    readonly hostname: string | null,
    private readonly log: () => string,
  ) {}

  /**
   * Starts a session daemon in fresh namespaces. With `hostname`, it also gets its own UTS
   * namespace with that hostname (what a container looks like to LTTng).
   */
  static async start(opts: { hostname?: string } = {}): Promise<LttngSessiond> {
    const home = tempDir('lttng-home');
    mkdirSync('/run/lttng', { recursive: true });
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /run/lttng',
      'mount -t tmpfs tmpfs /dev/shm',
      opts.hostname !== undefined ? `hostname '${opts.hostname}'` : ':',
      `LTTNG_HOME='${home}' lttng-sessiond --no-kernel &`,
      'wait',
    ].join('\n');
    const args = ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--mount-proc'];
    if (opts.hostname !== undefined) args.push('--uts');
    const child = spawn('unshare', [...args, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const unsharePid = child.pid!;
    let nsPid = 0;
    try {
      await waitFor('the namespace init', () => {
        if (child.exitCode !== null) throw new Error(`unshare exited: ${output}`);
        try {
          const kids = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
          nsPid = Number(kids.split(/\s+/)[0]);
          return nsPid > 0;
        } catch {
          return false;
        }
      });
      await waitFor('lttng-sessiond', () => {
        if (child.exitCode !== null) throw new Error(`lttng-sessiond exited: ${output}`);
        return existsSync(`/proc/${nsPid}/root/run/lttng/client-lttng-sessiond`);
      });
    } catch (err) {
      await killAndWait(child);
      throw err;
    }
    return new LttngSessiond(child, nsPid, home, opts.hostname ?? null, () => output);
  }

  private nsArgs(): string[] {
    const a = ['-t', String(this.nsPid), '-m', '-p'];
    if (this.hostname !== null) a.push('-u');
    return a;
  }

  /** Runs `lttng ARGS...` against this session daemon. */
  async lttng(...args: string[]): Promise<string> {
    return this.exec('lttng', args);
  }

  /** Runs a program inside the namespaces (as an instrumented app of this session daemon). */
  async exec(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
    try {
      const { stdout } = await execFileP(
        'nsenter',
        [...this.nsArgs(), '--', 'env', `LTTNG_HOME=${this.home}`, cmd, ...args],
        { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `${cmd} ${args.join(' ')} failed: ${e.stderr ?? ''} ${e.message}\nsessiond: ${this.log()}`,
      );
    }
  }

  async stop(): Promise<void> {
    await killAndWait(this.child);
    rmSync(this.home, { recursive: true, force: true });
  }
}

export class LttngRelayd {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: { control: number; data: number; live: number },
    readonly outputDir: string,
    private readonly home: string,
  ) {}

  get url(): string {
    return `net://127.0.0.1:${this.ports.control}:${this.ports.data}`;
  }

  static async start(outputDir: string, extraArgs: string[] = []): Promise<LttngRelayd> {
    const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
    const home = tempDir('relayd-home');
    const child = spawn(
      'lttng-relayd',
      [
        '-C',
        `tcp://127.0.0.1:${ports.control}`,
        '-D',
        `tcp://127.0.0.1:${ports.data}`,
        '-L',
        `tcp://127.0.0.1:${ports.live}`,
        '-o',
        outputDir,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LTTNG_HOME: home } },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor('lttng-relayd', async () => {
        if (child.exitCode !== null) throw new Error(`lttng-relayd exited: ${err}`);
        return canConnect(ports.live);
      });
    } catch (e) {
      await killAndWait(child);
      throw e;
    }
    return new LttngRelayd(child, ports, outputDir, home);
  }

  async stop(): Promise<void> {
    await killAndWait(this.child, 'SIGTERM');
    await killAndWait(this.child);
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** `babeltrace2 ARGS...` → stdout (throws with stderr on failure). */
export async function babeltrace(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP('babeltrace2', args, { timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`babeltrace2 ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** Pretty text of babeltrace2 without the timestamp and delta columns. */
export function dropTimestamps(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*\] \([^)]*\) /, ''))
    .join('\n');
}

/** Starts a babeltrace2 live reader that exits when the session ends. */
export function babeltraceLive(url: string): {
  done: Promise<{ stdout: string; stderr: string; code: number | null }>;
  child: ChildProcess;
  /** What it printed so far. */
  output: () => string;
} {
  const child = spawn(
    'babeltrace2',
    ['-c', 'src.ctf.lttng-live', '--params', `inputs=["${url}"],session-not-found-action="end"`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) =>
    child.once('exit', (code) => resolve({ stdout, stderr, code })),
  );
  return { done, child, output: () => stdout };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  await killAndWait(child);
}

/** Every file below `dir`, relative, sorted. */
export function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/**
 * Checks that every `index/X.idx` below `dir` covers its data file `X` exactly: entries in
 * file order, each packet starting where the previous ended, the last ending at the file end.
 * Returns the number of packets.
 */
export function checkIndexes(dir: string): number {
  let packets = 0;
  for (const f of files(dir).filter((x) => x.endsWith('.idx'))) {
    const idx = join(dir, f);
    const data = join(dir, f.replace(/index\/([^/]+)\.idx$/, '$1'));
    const entries = parseIndexFile(readFileSync(idx), idx).entries;
    let end = 0;
    for (const e of entries) {
      expect(e.offset, `${f}: packet offsets`).toBe(end);
      expect(e.contentSize).toBeLessThanOrEqual(e.packetSize);
      end += e.packetSize / 8;
    }
    expect(statSync(data).size, `${f} covers its data file`).toBe(end);
    packets += entries.length;
  }
  return packets;
}

/** One LIST_SESSIONS round trip on a relay's live port (works with any 2.x relay). */
export async function liveSessions(
  port: number,
): Promise<
  { id: number; hostname: string; name: string; clients: number; streams: number; liveTimer: number }[]
> {
  const sock = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let got = 0;
  const need = (n: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (got >= n) {
          sock.off('data', onData);
          sock.off('error', reject);
          const all = Buffer.concat(chunks);
          chunks.length = 0;
          chunks.push(all.subarray(n));
          got -= n;
          resolve(all.subarray(0, n));
        }
      };
      const onData = (d: Buffer): void => {
        chunks.push(d);
        got += d.length;
        check();
      };
      sock.on('data', onData);
      sock.once('error', reject);
      check();
    });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    const cmd = (c: number, payload: Buffer): Buffer =>
      Buffer.concat([C.ViewerCmd.encode({ data_size: payload.length, cmd: c, cmd_version: 0 }), payload]);
    sock.write(
      cmd(
        C.ViewerCommand.CONNECT,
        C.ViewerConnect.encode({ viewer_session_id: -1, major: 2, minor: 4, type: 1 }),
      ),
    );
    await need(C.ViewerConnect.size);
    sock.write(cmd(C.ViewerCommand.LIST_SESSIONS, Buffer.alloc(0)));
    const n = C.ViewerListSessions.decode(await need(4)).sessions_count;
    const out = [];
    for (let i = 0; i < n; i++) {
      const s = C.ViewerSessionRec.decode(await need(C.ViewerSessionRec.size));
      out.push({
        id: s.id,
        hostname: s.hostname,
        name: s.session_name,
        clients: s.clients,
        streams: s.streams,
        liveTimer: s.live_timer,
      });
    }
    return out;
  } finally {
    sock.destroy();
  }
}

/**
 * The stream files of a (possibly cut) replay of the trace-with-index fixture `original` at `dir`: each data file must be
 * the original's first k packets exactly, its index the first j <= k entries, the metadata
 * whole packets. Returns the number of packets found.
 */
export function checkPrefixOfOriginal(dir: string, original: string): number {
  let packets = 0;
  const meta = readFileSync(join(dir, 'metadata'));
  const origMeta = readFileSync(join(original, 'metadata'));
  expect(origMeta.subarray(0, meta.length).equals(meta), 'metadata is a prefix').toBe(true);
  expect(meta.length % 4096, 'metadata holds whole packets').toBe(0);
  for (const ch of ['ust_channel_0', 'ust_channel_1', 'ust_channel_2', 'ust_channel_3']) {
    const orig = readFileSync(join(original, ch));
    const origIdx = parseIndexFile(readFileSync(join(original, 'index', `${ch}.idx`)), ch).entries;
    const data = readFileSync(join(dir, ch));
    const boundaries = [0, ...origIdx.map((e) => e.offset + e.packetSize / 8)];
    expect(boundaries, `${ch}: ${data.length} bytes is a whole number of packets`).toContain(data.length);
    expect(orig.subarray(0, data.length).equals(data), `${ch} is a prefix of the original`).toBe(true);
    let entries = 0;
    try {
      const idx = parseIndexFile(readFileSync(join(dir, 'index', `${ch}.idx`)), ch).entries;
      entries = idx.length;
      expect(idx).toEqual(origIdx.slice(0, idx.length));
    } catch (err) {
      // No index file yet: only possible if no packet arrived.
      if (data.length > 0) throw err;
    }
    const k = boundaries.indexOf(data.length);
    expect(entries).toBeLessThanOrEqual(k);
    packets += k;
  }
  return packets;
}
