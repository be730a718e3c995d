/**
 * `nstrace record --url net://...`: the recorder streaming to a relay daemon, ours (`nstrace
 * relayd`, started in this process) and the real `lttng-relayd`. The relay's output must read
 * in babeltrace2 without a warning and hold the workload's events with the right namespace
 * contexts, as many as the recorder's summary says; an unreachable relay, a relay that dies
 * mid-recording and Ctrl-C mid-stream end cleanly with tracefs restored; a relay that falls
 * behind slows the recorder (bounded queue) and the events the kernel then drops are counted
 * in the summary and in the trace (babeltrace2's discarded-events warnings), never silently.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/tracefs/recorder.js';
import { readMetadataFile } from '../../src/ctf/metadata/index.js';
import { RelayClient, RelayDaemon, RelayTraceSink } from '../../src/relay/index.js';
import {
  babeltrace2,
  field,
  parseBt2Lines,
  readStringField,
  skipReason,
  tmpDir,
  tracefsRoot,
  tracefsSnapshot,
  type Bt2Event,
} from './helpers.js';
import { hostView, NS_NAMES, Probe, probeBinary } from './probe.js';
import { capabilityMissing, commandsCheck } from '../helpers/require.js';
import { LttngRelayd, checkIndexes, freePort, waitFor } from '../relay/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const reason = skipReason() ?? capabilityMissing('lttng-relayd', commandsCheck('lttng-relayd'));
if (reason) console.warn(`SKIPPING record --url tests: ${reason}`);

const dirs: string[] = [];
afterAll(() => {
  if (process.env.KEEP_TRACE) console.warn('traces kept in', dirs.join(' '));
  else for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function workDir(prefix: string): string {
  const d = tmpDir(prefix);
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs the CLI from source (vite-node); `during` runs once the child exists. */
function cli(args: string[], during?: (child: ChildProcess) => Promise<void>): Promise<Run> {
  const child = spawn(
    process.execPath,
    [path.join(repo, 'node_modules/vite-node/vite-node.mjs'), path.join(repo, 'src/cli/main.ts'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: repo },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr, pid: child.pid! })),
  );
  if (during) {
    void during(child).catch((e: unknown) => {
      console.warn('test driver failed:', e);
      child.kill('SIGKILL');
    });
  }
  return exited;
}

function instanceDir(pid: number): string {
  return path.join(tracefsRoot()!, 'instances', `nstrace-${pid}`);
}

async function waitTracing(child: ChildProcess): Promise<void> {
  const dir = instanceDir(child.pid!);
  await waitFor(
    'the recorder to start tracing',
    () => {
      if (child.exitCode !== null) throw new Error('recorder exited before tracing');
      // A new instance starts with tracing on and no events: wait for both (the recorder turns
      // tracing off at once, enables its events, and turns it on last).
      try {
        const events = fs.readFileSync(path.join(dir, 'set_event'), 'utf8').trim();
        return events !== '' && fs.readFileSync(path.join(dir, 'tracing_on'), 'utf8').trim() === '1';
      } catch {
        return false; // not created yet
      }
    },
    60_000,
  );
}

/**
 * The global tracefs settings (the recorder must never touch them). Other nstrace instances
 * may come and go meanwhile (other recorders on this machine): the recorder's own instance is
 * checked separately.
 */
function globalTracefs(): Record<string, string> {
  const s = tracefsSnapshot(tracefsRoot()!);
  delete s.instances;
  return s;
}

function recordedCount(stdout: string): number {
  const m = /^Recorded (\d+) events/m.exec(stdout);
  if (!m) throw new Error(`no summary in: ${stdout}`);
  return Number(m[1]);
}

/** Sum of babeltrace2's "discarded N events" warnings (one per packet that reports new losses). */
function discardedInWarnings(stderr: string): number {
  let n = 0;
  for (const m of stderr.matchAll(/discarded (\d+) events?/gi)) n += Number(m[1]);
  return n;
}

interface Relay {
  url: string;
  outputDir: string;
  ports: { control: number; data: number };
  stop(): Promise<void>;
}

async function oursRelay(): Promise<Relay> {
  const outputDir = workDir('url-ours');
  const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
  const d = await RelayDaemon.start({
    outputDir,
    control: { host: '127.0.0.1', port: ports.control },
    data: { host: '127.0.0.1', port: ports.data },
    live: { host: '127.0.0.1', port: ports.live },
  });
  return {
    url: `net://127.0.0.1:${ports.control}:${ports.data}`,
    outputDir,
    ports,
    stop: () => d.close(),
  };
}

async function lttngRelay(): Promise<Relay> {
  const outputDir = workDir('url-lttng');
  const r = await LttngRelayd.start(outputDir);
  return { url: r.url, outputDir, ports: r.ports, stop: () => r.stop() };
}

const N = 5;
const UNSHARE_ALL = ['unshare', '--pid', '--fork', '--mount-proc', '--uts', '--ipc', '--net', '--cgroup'];

/**
 * Records the namespace probe (in its own pid/uts/ipc/net/cgroup/mnt namespaces, forking a
 * renamed child) through `relay`, stopped with SIGINT, and checks the relay's copy. The probe
 * exists from before the recording until after it (the statedump's /proc walk describes it)
 * and its child is forked during it (inherited namespaces, vtid from fork's return): contexts
 * the recorder knows exactly, without its racy late /proc reads of tasks created during the
 * recording (those are the namespace tests' subject).
 */
async function probeThroughRelay(relay: Relay, session: string): Promise<void> {
  const work = workDir('url-probe');
  const file = path.join(work, 'data.txt');
  fs.writeFileSync(file, 'namespace-probe-data\n'.repeat(4));
  const json = path.join(work, 'summary.json');
  probeBinary();
  const before = globalTracefs();
  const probe = await Probe.start(UNSHARE_ALL, [file, String(N)]);
  let result: { view: ReturnType<typeof hostView>; child: number } | undefined;
  try {
    const view = hostView(probe.hostPid());
    const run = await cli(
      [
        'record',
        '--backend',
        'tracefs',
        '--url',
        relay.url,
        '--session-name',
        session,
        '-e',
        'sched_switch,sched_process_*,syscall_entry_openat,syscall_entry_read',
        '--no-containers',
        '--summary-json',
        json,
      ],
      async (child) => {
        await waitTracing(child);
        probe.go();
        const childLine = await probe.waitLine('child');
        await probe.waitLine('done');
        result = { view, child: Number(childLine.split(' ')[1]) };
        // The probe lives on until the recorder is done: the statedump (taken once tracing is
        // on, before the recorder looks at signals) describes it.
        child.kill('SIGINT');
      },
    );
    await probe.finish();
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(fs.existsSync(instanceDir(run.pid))).toBe(false);
    expect(globalTracefs()).toEqual(before);
    expect(result, 'the workload ran').toBeDefined();

    const summary = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      events: number;
      lost: number;
      relay: { outputPath: string; sessionName: string; bytesSent: number; hostname: string };
    };
    expect(summary.relay.sessionName).toBe(session);
    expect(summary.relay.outputPath).toMatch(new RegExp(`^${os.hostname()}/${session}-\\d{8}-\\d{6}$`));
    expect(run.stdout).toContain(
      `session ${session} (relay writes it under ${summary.relay.outputPath}/kernel)`,
    );
    const traceDir = path.join(relay.outputDir, summary.relay.outputPath, 'kernel');
    // Every packet the relay wrote is whole and indexed; the index covers each stream file.
    expect(checkIndexes(traceDir)).toBeGreaterThan(0);
    expect(summary.relay.bytesSent).toBeGreaterThan(0);

    const bt = babeltrace2([traceDir]);
    expect(bt.status).toBe(0);
    expect(bt.stderr).toBe('');
    const events = parseBt2Lines(bt.stdout);
    expect(summary.lost).toBe(0);
    expect(events.length).toBe(summary.events);
    expect(recordedCount(run.stdout)).toBe(summary.events);
    const env = readMetadataFile(path.join(traceDir, 'metadata')).cls.env;
    expect(env.get('trace_name')).toBe(session);
    expect(env.get('hostname')).toBe(os.hostname());
    expect(env.get('domain')).toBe('kernel');
    checkProbe(events, result!.view, result!.child);
    checkPaths(traceDir, result!.view.pid, file);
  } finally {
    probe.kill();
  }
}

/**
 * The probe's opens name its data file, or nothing: a path is written only when provably the
 * one the syscall saw (docs/record.md), and these opens return at once.
 */
function checkPaths(traceDir: string, pid: number, file: string): void {
  const opens = readStringField(traceDir, 'syscall_entry_openat', 'filename').filter((o) => o.tid === pid);
  expect(opens.length).toBe(N);
  for (const o of opens) expect(['', file]).toContain(o.value);
}

/** The probe's and its child's events carry the namespaces and ids /proc showed. */
function checkProbe(events: Bt2Event[], view: ReturnType<typeof hostView>, child: number): void {
  const of = (tid: number): Bt2Event[] => events.filter((e) => e.ctx.get('tid') === String(tid));
  const expectIds = (evs: Bt2Event[], vtid: string): void => {
    for (const e of evs) {
      for (const t of NS_NAMES)
        expect(e.ctx.get(`${t}_ns`), `${e.name} ${t}_ns at ${e.ts}`).toBe(String(view.ns[t]));
      expect(e.ctx.get('vtid'), `${e.name} vtid at ${e.ts}`).toBe(vtid);
    }
  };
  // The statedump describes the probe at both pid-namespace levels, deepest first.
  const pidns = events.filter(
    (e) => e.name === 'lttng_statedump_process_pid_ns' && field(e.payload, 'tid') === String(view.pid),
  );
  expect(
    pidns.map((e) => [field(e.payload, 'ns_level'), field(e.payload, 'vtid'), field(e.payload, 'ns_inum')]),
  ).toEqual([
    ['1', '1', String(view.ns.pid)],
    ['0', String(view.pid), String(fs.readlinkSync('/proc/self/ns/pid').match(/\d+/)![0])],
  ]);
  const evs = of(view.pid).filter((e) => !e.name.startsWith('lttng_statedump_'));
  expect(evs.length).toBeGreaterThan(4 * N);
  const vtid = String(view.nsPids[view.nsPids.length - 1]);
  expectIds(evs, vtid);
  for (const e of evs) expect(e.ctx.get('pid')).toBe(String(view.pid));
  // The workload's syscalls: opens of the data file (and nothing else: the loader ran before
  // the recording), reads of 7 bytes.
  const opens = evs.filter((e) => e.name === 'syscall_entry_openat');
  expect(opens.length).toBe(N);
  const reads = evs.filter((e) => e.name === 'syscall_entry_read' && field(e.payload, 'count') === '7');
  expect(reads.length).toBe(N);
  const forks = events.filter(
    (e) => e.name === 'sched_process_fork' && field(e.payload, 'parent_tid') === String(view.pid),
  );
  expect(forks.length).toBe(1);
  expect(field(forks[0]!.payload, 'child_ns_inum')).toBe(String(view.ns.pid));
  const childTid = Number(field(forks[0]!.payload, 'child_tid'));
  const childEvents = of(childTid);
  expect(childEvents.length).toBeGreaterThan(2 * N);
  expectIds(childEvents, String(child));
  const childOpens = childEvents.filter((e) => e.name === 'syscall_entry_openat');
  expect(childOpens.length).toBe(N);
  for (const e of childOpens) expect(e.ctx.get('procname')).toBe('"nsprobe-child"');
}

describe.skipIf(reason !== undefined)('nstrace record --url', () => {
  it('streams a namespaced workload to nstrace relayd', { timeout: 180_000 }, async () => {
    const relay = await oursRelay();
    try {
      await probeThroughRelay(relay, 'url-ours');
    } finally {
      await relay.stop();
    }
  });

  it('streams a namespaced workload to lttng-relayd', { timeout: 180_000 }, async () => {
    const relay = await lttngRelay();
    try {
      await probeThroughRelay(relay, 'url-lttng');
    } finally {
      await relay.stop();
    }
  });
});

/** Stream files (`channel0_N`) below `dir` with at least one byte: the relay is writing. */
function streamBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^channel0_\d+$/.test(e.name)) n += fs.statSync(p).size;
    }
  };
  walk(dir);
  return n;
}

/** A syscall flood (read/write of one byte at a time) until killed. */
function floodWorkload(): ChildProcess {
  return spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=1000000000'], { stdio: 'ignore' });
}

/** A steady workload until killed: about 40k read + write syscalls per second, in bursts. */
function steadyWorkload(): ChildProcess {
  const py = [
    'import os, time',
    "z = os.open('/dev/zero', os.O_RDONLY)",
    "n = os.open('/dev/null', os.O_WRONLY)",
    'while True:',
    '    for _ in range(200):',
    '        os.write(n, os.read(z, 64))',
    '    time.sleep(0.01)',
  ].join('\n');
  return spawn('python3', ['-c', py], { stdio: 'ignore' });
}

/**
 * A TCP proxy to 127.0.0.1:`target` that can stop reading from its clients: the relay then
 * looks stuck to the sender (its writes block once the socket buffers are full).
 */
async function pausableProxy(target: number): Promise<{
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}> {
  let paused = false;
  const socks: net.Socket[] = [];
  const server = net.createServer((c) => {
    const up = net.connect(target, '127.0.0.1');
    socks.push(c, up);
    c.on('data', (d: Buffer) => {
      if (!up.write(d)) c.pause();
    });
    up.on('drain', () => {
      if (!paused) c.resume();
    });
    up.on('data', (d: Buffer) => c.write(d));
    c.on('end', () => up.end());
    up.on('end', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
    if (paused) c.pause();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause: () => {
      paused = true;
      for (const x of socks) x.pause();
    },
    resume: () => {
      paused = false;
      for (const x of socks) x.resume();
    },
    close: async () => {
      for (const x of socks) x.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** `dropped events` + `overrun` of every CPU of a tracefs instance (what the kernel lost). */
function kernelLost(instance: string): number {
  let n = 0;
  const dir = path.join(instance, 'per_cpu');
  for (const cpu of fs.readdirSync(dir)) {
    const t = fs.readFileSync(path.join(dir, cpu, 'stats'), 'utf8');
    n +=
      Number(/^overrun:\s*(\d+)/m.exec(t)?.[1] ?? 0) + Number(/^dropped events:\s*(\d+)/m.exec(t)?.[1] ?? 0);
  }
  return n;
}

describe.skipIf(reason !== undefined)('nstrace record --url: stopping and failing', () => {
  it(
    'SIGINT while packets stream: every packet reaches the relay, readable',
    { timeout: 180_000 },
    async () => {
      const relay = await lttngRelay();
      const work = workDir('url-sigint');
      const json = path.join(work, 'summary.json');
      const before = globalTracefs();
      let dd: ChildProcess | undefined;
      try {
        const run = await cli(
          [
            'record',
            '--backend',
            'tracefs',
            '--url',
            relay.url,
            '-e',
            'sched_switch,syscall_entry_read,syscall_entry_write',
            '--no-containers',
            '--packet-size',
            '64k',
            '--summary-json',
            json,
          ],
          async (child) => {
            await waitTracing(child);
            dd = steadyWorkload();
            // Stop it while packets are flowing: the relay has written some, more are queued.
            await waitFor('packets on the relay', () => streamBytes(relay.outputDir) > 0, 120_000);
            child.kill('SIGINT');
          },
        );
        dd?.kill('SIGKILL');
        expect(run.code, run.stderr).toBe(0);
        expect(fs.existsSync(instanceDir(run.pid))).toBe(false);
        expect(globalTracefs()).toEqual(before);
        const summary = JSON.parse(fs.readFileSync(json, 'utf8')) as {
          events: number;
          lost: number;
          packets: number;
          relay: { outputPath: string; packetsSent: number };
        };
        const traceDir = path.join(relay.outputDir, summary.relay.outputPath, 'kernel');
        expect(summary.relay.packetsSent).toBe(summary.packets);
        expect(checkIndexes(traceDir)).toBe(summary.packets);
        const bt = babeltrace2([traceDir]);
        expect(bt.status).toBe(0);
        // Losses (the ring buffer overflowing under this load) are in the trace, exactly.
        expect(discardedInWarnings(bt.stderr)).toBe(summary.lost);
        if (summary.lost === 0) expect(bt.stderr).toBe('');
        const events = parseBt2Lines(bt.stdout);
        expect(events.length).toBe(summary.events);
        expect(recordedCount(run.stdout)).toBe(summary.events);
        expect(
          events.filter((e) => e.name === 'syscall_entry_write' && e.ctx.get('procname') === '"python3"')
            .length,
        ).toBeGreaterThan(0);
      } finally {
        dd?.kill('SIGKILL');
        await relay.stop();
      }
    },
  );

  it('an unreachable relay: one line, exit 1, tracefs untouched', { timeout: 120_000 }, async () => {
    const before = globalTracefs();
    const port = await freePort();
    const run = await cli([
      'record',
      '--backend',
      'tracefs',
      '--url',
      `net://127.0.0.1:${port}`,
      '--duration',
      '5s',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `nstrace: error: cannot connect to relay at 127.0.0.1:${port}: ECONNREFUSED`,
    ]);
    expect(run.stdout).toBe('');
    expect(fs.existsSync(instanceDir(run.pid))).toBe(false);
    expect(globalTracefs()).toEqual(before);
  });

  it(
    'usage errors: --url with -o, --session-name without --url, tcp:// URLs',
    { timeout: 120_000 },
    async () => {
      for (const [args, msg] of [
        [['--url', 'net://127.0.0.1', '-o', '/tmp/x'], /--url and -o\/--output exclude each other/],
        [['--session-name', 'x'], /--session-name needs --url/],
        [['--url', 'tcp://127.0.0.1:5342'], /--url takes net:\/\/HOST/],
        [['--url', 'net://127.0.0.1', '--session-name', 'a/b'], /bad session name 'a\/b'/],
      ] as Array<[string[], RegExp]>) {
        const run = await cli(['record', '--backend', 'tracefs', ...args, '--duration', '1s']);
        expect(run.code, args.join(' ')).toBe(2);
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(msg);
      }
    },
  );

  it(
    'the relay dies mid-recording: the recorder stops with one line, tracefs restored',
    { timeout: 180_000 },
    async () => {
      const relay = await lttngRelay();
      const before = globalTracefs();
      let stopped = false;
      try {
        const run = await cli(
          [
            'record',
            '--backend',
            'tracefs',
            '--url',
            relay.url,
            '-e',
            'sched_switch',
            '--no-containers',
            '--packet-size',
            '64k',
          ],
          async (child) => {
            await waitTracing(child);
            await relay.stop();
            stopped = true;
          },
        );
        expect(stopped).toBe(true);
        expect(run.code).toBe(1);
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^nstrace: error: streaming to the relay at net:\/\/127\.0\.0\.1:\d+(:\d+)? failed: relay closed the (control|data) connection/,
        );
        expect(fs.existsSync(instanceDir(run.pid))).toBe(false);
        expect(globalTracefs()).toEqual(before);
      } finally {
        if (!stopped) await relay.stop();
      }
    },
  );

  it(
    'a relay that never takes the last packets: a second Ctrl-C gives up on them (exit 130, one line)',
    { timeout: 180_000 },
    async () => {
      const relay = await oursRelay();
      const proxy = await pausableProxy(relay.ports.data);
      const before = globalTracefs();
      let signals = 0;
      try {
        proxy.pause();
        const run = await cli(
          [
            'record',
            '--backend',
            'tracefs',
            '--url',
            `net://127.0.0.1:${relay.ports.control}:${proxy.port}`,
            '-e',
            'sched_switch',
            '--no-containers',
          ],
          async (child) => {
            await waitTracing(child);
            child.kill('SIGINT');
            signals++;
            // The recorder is done (its instance is gone); the CLI now waits for the relay,
            // which reads nothing on its data port.
            await waitFor('the recording to end', () => !fs.existsSync(instanceDir(child.pid!)), 60_000);
            child.kill('SIGINT');
            signals++;
          },
        );
        expect(signals).toBe(2);
        expect(run.code).toBe(130);
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^nstrace: error: interrupted while sending the last .+ to the relay at net:\/\/127\.0\.0\.1:\d+:\d+ \(the relay keeps what it received\)$/,
        );
        expect(globalTracefs()).toEqual(before);
      } finally {
        await proxy.close();
        await relay.stop();
      }
    },
  );

  it(
    'a relay that falls behind: the queue stays bounded, the recorder waits, losses are counted in the trace',
    { timeout: 240_000 },
    async () => {
      const relay = await oursRelay();
      const proxy = await pausableProxy(relay.ports.data);
      const limit = 1 << 20;
      const bufferSizeKb = 1024;
      const packetSize = 64 * 1024;
      let dd: ChildProcess | undefined;
      try {
        const client = await RelayClient.connect(`net://127.0.0.1:${relay.ports.control}:${proxy.port}`, {
          hostname: os.hostname(),
          sessionName: 'behind',
        });
        const sink = new RelayTraceSink(client, 'kernel', { maxPendingBytes: limit });
        const ac = new AbortController();
        let started!: () => void;
        const startedP = new Promise<void>((r) => (started = r));
        const lostWarnings: string[] = [];
        const recP = record({
          outDir: client.outputPath,
          traceName: 'behind',
          sink,
          sinkReady: () => sink.ready(),
          events: ['syscall_entry_read', 'syscall_entry_write'],
          syscalls: false,
          containers: false,
          statedump: false,
          bufferSizeKb,
          packetSize,
          signal: ac.signal,
          excludeChildren: false,
          onStarted: () => started(),
          onWarning: (m) => lostWarnings.push(m),
        });
        await startedP;
        const instance = instanceDir(process.pid);
        proxy.pause();
        dd = floodWorkload();
        // The relay reads nothing: the socket buffers fill, then the sink's queue, then the
        // recorder stops reading and the kernel ring buffer overflows.
        await waitFor('the recorder to wait for the relay', () => sink.waits > 0, 120_000);
        await waitFor('the kernel to drop events', () => kernelLost(instance) > 0, 120_000);
        proxy.resume();
        await waitFor('the relay to catch up', () => sink.pendingBytes <= limit / 2, 120_000);
        dd.kill('SIGKILL');
        ac.abort();
        const summary = await recP;
        await sink.finished();
        await client.close();

        console.warn(
          'relay behind:',
          JSON.stringify({
            limit,
            maxQueued: sink.maxPendingSeen,
            waits: sink.waits,
            waitedMs: sink.waitedMs,
            events: summary.events,
            lost: summary.lost,
            bytesSent: sink.bytesSent,
          }),
        );
        const cpus = summary.perCpu.length;
        // Bounded: the limit, plus what one read cycle converts (at most the ring buffer of
        // each CPU, ~2x bigger as CTF with contexts; 4x here) and one writer chunk per CPU.
        const bound = limit + cpus * (4 * bufferSizeKb * 1024 + Math.max(2 << 20, 2 * packetSize));
        expect(sink.maxPendingSeen).toBeGreaterThan(limit);
        expect(sink.maxPendingSeen).toBeLessThanOrEqual(bound);
        expect(summary.lost).toBeGreaterThan(0);
        expect(lostWarnings.some((m) => /lost \d+ events on CPU/.test(m))).toBe(true);

        const traceDir = path.join(relay.outputDir, client.outputPath, 'kernel');
        expect(checkIndexes(traceDir)).toBe(summary.packets);
        const bt = babeltrace2([traceDir]);
        expect(bt.status).toBe(0);
        expect(discardedInWarnings(bt.stderr)).toBe(summary.lost);
        expect(parseBt2Lines(bt.stdout).length).toBe(summary.events);
      } finally {
        dd?.kill('SIGKILL');
        await proxy.close();
        await relay.stop();
      }
    },
  );
});
