/**
 * Issue "nstrace relayd": the same UST session streamed on loopback to the real lttng-relayd
 * and to `nstrace relayd`, one after the other, in the same run.
 *
 * The session is a recorded lttng-ust trace (the UST benchmark trace of bench/ust-workload.ts)
 * replayed packet by packet through `RelayClient` in a separate process, as a consumer daemon
 * sends it: packet content on the data connection (the relay writes the padding), an index per
 * packet on the control connection. Replaying rather than tracing live gives both relays the
 * very same byte stream, as fast as the sender can push it, and keeps the tracer's and the
 * consumer's CPU out of the numbers. A second round does the same with small (4 KiB) packets,
 * where per-packet costs dominate.
 *
 * Measured per relay: throughput (bytes / seconds until the relay confirms every packet and
 * index is in), CPU time of the relay process (utime + stime from /proc/PID/stat, all threads),
 * and lost packets (index entries and data bytes on disk vs what was sent).
 * Bars: nstrace relayd's throughput at least lttng-relayd's, no lost packet, CPU per GB at most
 * 1.5x lttng-relayd's.
 *
 * The relays write to a tmpfs (/dev/shm, or NSTRACE_BENCH_RELAYD_OUT): on a disk, the kernel
 * makes whichever process is writing when dirty pages pile up do the writeback, which charges
 * one relay or the other with seconds of system time depending on what ran before.
 *
 * Standalone: npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/relayd.js
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIndexFile } from '../src/ctf/index-file.js';
import type { BenchResult } from './measure.js';
import { recordUstBenchTrace, traceBytes } from './ust-workload.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_EVENTS ?? 4_200_000);
/** Times the big trace is sent per relay (about 1.1 GB with the default trace). */
const REPEAT = Number(process.env.NSTRACE_BENCH_RELAYD_REPEAT ?? 3);
/** Times the small-packet trace (20 packets of 4 KiB) is sent per relay. */
const SMALL_REPEAT = Number(process.env.NSTRACE_BENCH_RELAYD_SMALL_REPEAT ?? 2500);
const ROUNDS = Number(process.env.NSTRACE_BENCH_REPEAT ?? 3);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = process.cwd();
const NSTRACE = join(ROOT, 'dist/bin/nstrace.js');
const SENDER = join(HERE, 'relayd-sender.js');
const SMALL_TRACE = join(ROOT, 'test/fixtures/babeltrace/trace-with-index');
const TICK = 100; // clock ticks per second (getconf CLK_TCK)

interface RelayRun {
  relay: string;
  bytes: number;
  packets: number;
  seconds: number;
  cpu: number;
  lostPackets: number;
  lostBytes: number;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // fields 14 and 15: utime, stime
}

async function waitListening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error('relay exited at start');
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('relay did not start');
}

function sender(
  url: string,
  trace: string,
  repeat: number,
): Promise<{ bytes: number; packets: number; seconds: number; outputPath: string }> {
  return new Promise((res, rej) => {
    execFile(
      process.execPath,
      [SENDER, url, trace, String(repeat)],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err !== null) return rej(new Error(`sender failed: ${stderr}`));
        res(JSON.parse(stdout) as { bytes: number; packets: number; seconds: number; outputPath: string });
      },
    );
  });
}

/** Index entries and data bytes under `dir`. */
function onDisk(dir: string): { packets: number; bytes: number } {
  let packets = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.idx')) packets += parseIndexFile(readFileSync(p), p).entries.length;
      else if (n !== 'metadata') bytes += statSync(p).size;
    }
  };
  walk(dir);
  return { packets, bytes };
}

async function runOne(
  relay: 'lttng-relayd' | 'nstrace relayd',
  trace: string,
  repeat: number,
  out: string,
): Promise<RelayRun> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
  const child =
    relay === 'lttng-relayd'
      ? spawn(
          'lttng-relayd',
          [
            '-C',
            `tcp://127.0.0.1:${ports.control}`,
            '-D',
            `tcp://127.0.0.1:${ports.data}`,
            '-L',
            `tcp://127.0.0.1:${ports.live}`,
            '-o',
            out,
          ],
          { stdio: 'ignore', env: { ...process.env, LTTNG_HOME: out } },
        )
      : spawn(
          process.execPath,
          [
            NSTRACE,
            'relayd',
            '-q',
            '-o',
            out,
            '-C',
            `127.0.0.1:${ports.control}`,
            '-D',
            `127.0.0.1:${ports.data}`,
            '-L',
            String(ports.live),
          ],
          { stdio: 'ignore' },
        );
  try {
    await waitListening(ports.live, child);
    const cpu0 = cpuSeconds(child.pid!);
    const s = await sender(`net://127.0.0.1:${ports.control}:${ports.data}`, trace, repeat);
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const disk = onDisk(join(out, s.outputPath));
    return {
      relay,
      bytes: s.bytes,
      packets: s.packets,
      seconds: s.seconds,
      cpu,
      lostPackets: s.packets - disk.packets,
      lostBytes: s.bytes - disk.bytes,
    };
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * `ROUNDS` alternating runs per relay. On a shared machine both numbers only ever get worse
 * than the relay's own cost, so each relay keeps its best time and its least CPU over the
 * rounds (and the most packets any round lost).
 */
async function compare(
  trace: string,
  repeat: number,
  out: string,
): Promise<{ peer: RelayRun; ours: RelayRun }> {
  const runs: { peer: RelayRun[]; ours: RelayRun[] } = { peer: [], ours: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.peer.push(await runOne('lttng-relayd', trace, repeat, join(out, 'peer')));
    runs.ours.push(await runOne('nstrace relayd', trace, repeat, join(out, 'ours')));
  }
  const best = (list: RelayRun[]): RelayRun => ({
    ...list[0]!,
    seconds: Math.min(...list.map((r) => r.seconds)),
    cpu: Math.min(...list.map((r) => r.cpu)),
    lostPackets: Math.max(...list.map((r) => r.lostPackets)),
    lostBytes: Math.max(...list.map((r) => r.lostBytes)),
  });
  return { peer: best(runs.peer), ours: best(runs.ours) };
}

const GB = 1e9;
const rate = (r: RelayRun): number => r.bytes / r.seconds / 1e6;
const cpuPerGB = (r: RelayRun): number => (r.cpu * GB) / r.bytes;

function rows(title: string, c: { peer: RelayRun; ours: RelayRun }): string[] {
  const row = (r: RelayRun): string =>
    `| ${r.relay} | ${(r.bytes / 1e6).toFixed(0)} MB, ${r.packets} packets | ${r.seconds.toFixed(2)} s | ` +
    `${rate(r).toFixed(0)} MB/s | ${r.cpu.toFixed(2)} s | ${cpuPerGB(r).toFixed(2)} s/GB | ${r.lostPackets} |`;
  return [
    `${title}:`,
    '',
    '| relay | sent | time | throughput | relay CPU | CPU per GB | lost packets |',
    '|---|---|---|---|---|---|---|',
    row(c.peer),
    row(c.ours),
    '',
    `throughput nstrace/lttng-relayd: ${(rate(c.ours) / rate(c.peer)).toFixed(2)}x; ` +
      `CPU per GB nstrace/lttng-relayd: ${(cpuPerGB(c.ours) / cpuPerGB(c.peer)).toFixed(2)}x`,
    '',
  ];
}

export async function run(): Promise<BenchResult> {
  const cache = resolve('.bench');
  mkdirSync(cache, { recursive: true });
  process.stderr.write(`recording a UST trace of ${EVENTS} events (cached in .bench/)...\n`);
  const trace = await recordUstBenchTrace(join(cache, `ust-${EVENTS}`), EVENTS);
  const mb = traceBytes(trace) / 1e6;
  const out =
    process.env.NSTRACE_BENCH_RELAYD_OUT ??
    (existsSync('/dev/shm') ? `/dev/shm/nstrace-relayd-bench-${process.pid}` : join(cache, 'relayd-out'));
  process.stderr.write(
    `streaming ${mb.toFixed(0)} MB x ${REPEAT} to each relay (${ROUNDS} rounds), output in ${out}...\n`,
  );
  const big = await compare(trace, REPEAT, out);
  process.stderr.write(`streaming 4 KiB packets (${SMALL_REPEAT * 20} packets) to each relay...\n`);
  const small = await compare(SMALL_TRACE, SMALL_REPEAT, out);
  rmSync(out, { recursive: true, force: true });

  const cpuRatio = cpuPerGB(big.ours) / cpuPerGB(big.peer);
  const speed = rate(big.ours) / rate(big.peer);
  const lost = big.ours.lostPackets + small.ours.lostPackets;
  return {
    title: `relayd: nstrace relayd vs lttng-relayd, same UST session replayed on loopback (output on ${out.startsWith('/dev/shm') ? 'tmpfs' : 'disk'})`,
    lines: [
      ...rows(
        `UST benchmark trace (${EVENTS} events, 1 MiB packets), sent ${REPEAT} times; best of ${ROUNDS}`,
        big,
      ),
      ...rows(
        `4 KiB packets (trace-with-index fixture sent ${SMALL_REPEAT} times); best of ${ROUNDS}`,
        small,
      ),
    ],
    bars: [
      {
        name: 'relayd throughput vs lttng-relayd',
        value: `${speed.toFixed(2)}x`,
        bar: '>= 1x',
        pass: speed >= 1,
      },
      {
        name: 'relayd lost packets',
        value: String(lost),
        bar: '0',
        pass: lost === 0 && big.ours.lostBytes === 0 && small.ours.lostBytes === 0,
      },
      {
        name: 'relayd CPU per GB vs lttng-relayd',
        value: `${cpuRatio.toFixed(2)}x`,
        bar: '<= 1.5x',
        pass: cpuRatio <= 1.5,
      },
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
  for (const b of r.bars)
    process.stdout.write(`${b.pass ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value} (bar: ${b.bar})\n`);
}
