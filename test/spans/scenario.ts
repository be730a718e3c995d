/**
 * The seed's scenario on this machine, for `nstrace spans` (test/spans/scenario.test.ts):
 *
 * - `nstrace relayd` on free local ports;
 * - the host kernel through `nstrace record --url` (its own session, so its own autogroup);
 * - an "app container": its own pid, mount, uts, ipc (and optionally time) namespaces, with a
 *   private /run/lttng and /dev/shm, its own `lttng-sessiond` 2.13, and the spans application
 *   (test/spans/workload/spanapp.c, built with gcc here) streaming its request_begin/_end
 *   tracepoints to the same relay; the application measures its own truth per request;
 * - a "noisy" container (own pid, mount, uts, ipc namespaces) running busy loops on the
 *   application's CPU, in a session of its own with a higher weight (autogroup nice and task
 *   nice), so that it, rather than the rest of this shared machine, takes the CPU from the
 *   application.
 *
 * Needs root, tracefs, lttng-tools, liblttng-ust-dev and gcc; the caller holds the system lock
 * (`flock /tmp/nstrace-system.lock`). Every process started here is stopped by pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NSTRACE } from '../helpers/cli.js';
import { freePort, sleep, waitFor } from '../relay/helpers.js';
import { tracefsRoot } from '../record/helpers.js';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Why the scenario cannot run here, or undefined. */
export function scenarioUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (tracefsRoot() === undefined) return 'tracefs is not mounted';
  for (const b of [
    '/usr/bin/lttng',
    '/usr/bin/lttng-sessiond',
    '/usr/bin/gcc',
    '/usr/bin/nsenter',
    '/usr/bin/taskset',
  ]) {
    if (!fs.existsSync(b)) return `${b} is missing (run scripts/test-setup.sh)`;
  }
  if (
    !fs.existsSync('/usr/include/x86_64-linux-gnu/lttng/tracepoint.h') &&
    !fs.existsSync('/usr/include/lttng/tracepoint.h')
  )
    return 'liblttng-ust-dev is missing (run scripts/test-setup.sh)';
  return undefined;
}

/** Builds the spans application into `dir`. */
export async function buildSpanApp(dir: string): Promise<string> {
  const src = path.join(HERE, 'workload');
  const out = path.join(dir, 'spanapp');
  await execFileP('gcc', [
    '-O2',
    `-I${src}`,
    '-o',
    out,
    path.join(src, 'spanapp.c'),
    path.join(src, 'spanapp-tp.c'),
    '-llttng-ust',
    '-ldl',
    '-lpthread',
  ]);
  return out;
}

/** One request as the application measured it. */
export interface Truth {
  id: number;
  vtid: number;
  cpuNs: number;
  asleepNs: number;
  sleepRequestedNs: number;
  wallNs: number;
  /** Run-queue wait over the request (schedstat); undefined when the kernel does not say. */
  runDelayNs: number | undefined;
}

export function readTruth(file: string): Truth[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [id, vtid, cpu, asleep, req, wall, delay] = l.trim().split(/\s+/).map(Number);
      return {
        id: id!,
        vtid: vtid!,
        cpuNs: cpu!,
        asleepNs: asleep!,
        sleepRequestedNs: req!,
        wallNs: wall!,
        runDelayNs: delay === undefined || delay < 0 ? undefined : delay,
      };
    });
}

async function killAndWait(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await Promise.race([gone, sleep(20_000)]);
}

function pidNsOf(pid: number): number {
  return Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/pid`))![1]);
}

/** A container made with `unshare`: its init runs `script`, in a session of its own. */
class Container {
  private constructor(
    private readonly child: ChildProcess,
    /** Host pid of the namespace's init. */
    readonly init: number,
    private readonly output: () => string,
  ) {}

  static async start(flags: string[], script: string): Promise<Container> {
    const child = spawn(
      'unshare',
      [
        '--pid',
        '--mount',
        '--uts',
        '--ipc',
        ...flags,
        '--fork',
        '--mount-proc',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
      ],
      // detached: a new session, so a scheduling autogroup of its own.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let init = 0;
    try {
      await waitFor(
        'the container to start',
        () => {
          if (child.exitCode !== null) throw new Error(`unshare exited: ${out}`);
          if (init === 0) {
            try {
              init = Number(
                fs
                  .readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
                  .trim()
                  .split(/\s+/)[0],
              );
            } catch {
              return false;
            }
          }
          return init > 0 && out.includes('ready');
        },
        60_000,
      );
    } catch (e) {
      await killAndWait(child);
      throw e;
    }
    return new Container(child, init, () => out);
  }

  get pidNs(): number {
    return pidNsOf(this.init);
  }

  /** Runs a command in the container's namespaces. */
  async exec(argv: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<string> {
    const args = ['-t', String(this.init), '-m', '-p', '-u', '-i'];
    if (fs.readlinkSync(`/proc/${this.init}/ns/time`) !== fs.readlinkSync('/proc/self/ns/time'))
      args.push('-T');
    try {
      const { stdout } = await execFileP(
        'nsenter',
        [...args, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
        { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `${argv.join(' ')} failed in the container: ${e.stderr ?? ''} ${e.message}\n${this.output()}`,
      );
    }
  }

  async stop(): Promise<void> {
    // Killing a pid namespace's init kills every task in it.
    try {
      process.kill(this.init, 'SIGKILL');
    } catch {
      /* gone */
    }
    await killAndWait(this.child);
  }
}

export interface ScenarioOptions {
  /** `containers-first`: the containers exist before the recording starts (its statedump sees them). */
  readonly order: 'containers-first' | 'recorder-first';
  /** CLOCK_MONOTONIC offset of the app container's time namespace, seconds (0: no time namespace). */
  readonly timeOffsetSec: number;
  /** UST contexts beyond vpid, vtid, pid_ns. */
  readonly extraContexts?: readonly string[];
  /** Requests per thread, CPU ms per half request, sleep ms, threads. */
  readonly requests: number;
  readonly busyMs: number;
  readonly sleepMs: number;
  readonly threads: number;
  /** Busy loops of the noisy container. */
  readonly hogs: number;
}

export interface ScenarioResult {
  /** The relay's output directory. */
  readonly out: string;
  readonly truth: Truth[];
  readonly appPidNs: number;
  readonly noisyPidNs: number;
  /** The recorder's summary (stdout). */
  readonly recorderSummary: string;
  readonly cpu: number;
}

/** Runs the scenario in `work` (a fresh directory). */
export async function runScenario(work: string, o: ScenarioOptions): Promise<ScenarioResult> {
  const app = await buildSpanApp(work);
  const out = path.join(work, 'relay');
  const home = path.join(work, 'app-home');
  fs.mkdirSync(home, { recursive: true });
  const truthFile = path.join(work, 'truth.txt');
  const cpu = (await import('node:os')).cpus().length - 1;
  const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
  const url = `net://127.0.0.1:${ports.control}:${ports.data}`;
  let relayd: ChildProcess | undefined;
  let recorder: ChildProcess | undefined;
  let recorderOut = '';
  const containers: Container[] = [];
  try {
    relayd = spawn(
      'node',
      [
        NSTRACE,
        'relayd',
        '-o',
        out,
        '-C',
        `tcp://127.0.0.1:${ports.control}`,
        '-D',
        `tcp://127.0.0.1:${ports.data}`,
        '-L',
        `tcp://127.0.0.1:${ports.live}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let relayErr = '';
    relayd.stderr!.on('data', (d: Buffer) => (relayErr += d.toString()));
    await waitFor('nstrace relayd', async () => {
      if (relayd!.exitCode !== null) throw new Error(`nstrace relayd exited: ${relayErr}`);
      return canConnect(ports.control);
    });

    const startRecorder = async (): Promise<void> => {
      // A session of its own (autogroup), as on a real host; a large buffer: this machine is busy.
      recorder = spawn(
        'node',
        [NSTRACE, 'record', '--url', url, '--session-name', 'host', '--buffer-size', '64M'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      recorder.stdout!.on('data', (d: Buffer) => (recorderOut += d.toString()));
      recorder.stderr!.on('data', (d: Buffer) => (recorderOut += d.toString()));
      // The recorder says which backend it records with once its events are enabled (bpf:
      // programs attached; tracefs: the instance's events on).
      await waitFor(
        'the recorder to trace',
        () => {
          if (recorder!.exitCode !== null) throw new Error(`nstrace record exited: ${recorderOut}`);
          return /nstrace: recording with the (bpf|tracefs) backend/.test(recorderOut);
        },
        120_000,
      );
      // Its statedump is written once tracing is on: give it a moment.
      await sleep(1500);
    };

    const startContainers = async (): Promise<[Container, Container]> => {
      const hogs = Array.from(
        { length: o.hogs },
        () => `taskset -c ${cpu} nice -n -10 sh -c 'while :; do :; done' &`,
      ).join('\n');
      const noisy = await Container.start(
        [],
        ['hostname noisy', hogs, 'echo ready', 'exec sleep 100000'].join('\n'),
      );
      containers.push(noisy);
      // The noisy container's autogroup weighs more than the other sessions of this machine.
      try {
        fs.writeFileSync(`/proc/${noisy.init}/autogroup`, '-10');
      } catch {
        /* no autogroup scheduling: task nice alone */
      }
      const timeFlags = o.timeOffsetSec !== 0 ? ['--time', '--monotonic', String(o.timeOffsetSec)] : [];
      const appCtr = await Container.start(
        timeFlags,
        [
          'set -e',
          'mount -t tmpfs tmpfs /run/lttng',
          'mount -t tmpfs tmpfs /dev/shm',
          'hostname app-ctr',
          `LTTNG_HOME='${home}' lttng-sessiond --daemonize --no-kernel --quiet`,
          'echo ready',
          'exec sleep 100000',
        ].join('\n'),
      );
      containers.push(appCtr);
      return [appCtr, noisy];
    };

    let appCtr: Container;
    let noisy: Container;
    if (o.order === 'containers-first') {
      [appCtr, noisy] = await startContainers();
      await sleep(500);
      await startRecorder();
    } else {
      await startRecorder();
      [appCtr, noisy] = await startContainers();
    }
    const env = { LTTNG_HOME: home, HOME: home, LTTNG_UST_REGISTER_TIMEOUT: '-1' };
    const lttng = (...args: string[]): Promise<string> => appCtr.exec(['lttng', ...args], env);
    await lttng('create', 'app', `--set-url=${url}`);
    await lttng('enable-channel', '-u', 'ch', '--blocking-timeout=inf');
    await lttng('enable-event', '-u', '-c', 'ch', 'spanapp:*');
    const ctx = ['vpid', 'vtid', 'pid_ns', 'procname', ...(o.extraContexts ?? [])].flatMap((c) => ['-t', c]);
    await lttng('add-context', '-u', '-c', 'ch', ...ctx);
    await lttng('start');
    // In a session of its own too (setsid): the app competes as a container would.
    await appCtr.exec(
      [
        'setsid',
        '-w',
        'taskset',
        '-c',
        String(cpu),
        app,
        String(o.requests),
        String(o.busyMs),
        String(o.sleepMs),
        String(o.threads),
        truthFile,
      ],
      { ...env, LTTNG_UST_ALLOW_BLOCKING: '1' },
    );
    await lttng('stop');
    await lttng('destroy');
    const appPidNs = appCtr.pidNs;
    const noisyPidNs = noisy.pidNs;
    // The noisy container stops before the recording does: its stop is in the trace too.
    await sleep(300);
    const rec = recorder as ChildProcess | undefined;
    if (rec !== undefined) {
      const done = new Promise<void>((r) => rec.once('exit', () => r()));
      rec.kill('SIGINT');
      await Promise.race([done, sleep(180_000)]);
      if (rec.exitCode !== 0) throw new Error(`nstrace record failed (${rec.exitCode}): ${recorderOut}`);
    }
    return { out, truth: readTruth(truthFile), appPidNs, noisyPidNs, recorderSummary: recorderOut, cpu };
  } finally {
    for (const c of containers) await c.stop();
    // SIGINT first: the recorder restores tracefs on its way out.
    await killAndWait(recorder, 'SIGINT');
    await killAndWait(recorder, 'SIGKILL');
    await killAndWait(relayd, 'SIGINT');
    await killAndWait(relayd, 'SIGKILL');
  }
}

function canConnect(port: number): Promise<boolean> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
  );
}
