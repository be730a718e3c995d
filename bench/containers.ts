/**
 * Container discovery cost, beside util-linux `lsns` (the peer that reads the same /proc links).
 * The host gets a few hundred extra processes and a dozen bare pid-namespace containers (plain
 * `unshare`), then:
 * - `nstrace containers --no-api` vs `lsns -t pid` as commands (wall, CPU; node start included);
 * - in process: one full `/proc` rescan, one quick poll check (the watcher does nine quick checks
 *   and one full rescan per ten polls), and one `containerOfPid` lookup (what a recorder may do
 *   per new task). CPU time, not wall time: the machine is shared.
 * Bars: a rescan costs under 1% of a core at the default 1 s poll; containerOfPid under 50 µs.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { scanContainers } from '../src/containers/discover.js';
import { ProcFs } from '../src/containers/procfs.js';
import { watchContainers } from '../src/containers/watch.js';
import { type BenchResult, measure } from './measure.js';

const HOST_PROCS = Number(process.env.NSTRACE_BENCH_PROCS ?? 300);
const CONTAINERS = Number(process.env.NSTRACE_BENCH_CONTAINERS ?? 12);
const NSTRACE = resolve('dist/bin/nstrace.js');

function startAll(): number[] {
  const pids: number[] = [];
  for (let i = 0; i < HOST_PROCS; i++) {
    const c = spawn('sleep', ['600'], { stdio: 'ignore' });
    if (c.pid) pids.push(c.pid);
  }
  for (let i = 0; i < CONTAINERS; i++) {
    const c = spawn(
      'unshare',
      ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', 'sleep 600 & sleep 600'],
      {
        stdio: 'ignore',
      },
    );
    if (c.pid) pids.push(c.pid);
  }
  return pids;
}

function stopAll(pids: number[]): void {
  // unshare --kill-child takes its child (the pid namespace's init, and so the namespace) along.
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** CPU ms (user + system) per call: robust on a shared machine, where wall time includes waiting for a core. */
function timeIt(n: number, fn: () => void): number {
  fn(); // warm up
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

export async function run(): Promise<BenchResult> {
  const pids = startAll();
  try {
    await new Promise((r) => setTimeout(r, 1000)); // let the namespaces come up
    const proc = new ProcFs();
    const procs = proc.listPids().length;
    const found = scanContainers(proc).found.length;
    const repeat = Number(process.env.NSTRACE_BENCH_REPEAT ?? 5);
    const lsns = await measure(['lsns', '-t', 'pid'], { repeat });
    const cli = await measure(['node', NSTRACE, 'containers', '--no-api'], { repeat });
    const nodeOnly = await measure(['node', '-e', '0'], { repeat });

    const scanMs = timeIt(20, () => scanContainers(proc));
    const w = await watchContainers(
      () => undefined,
      () => undefined,
      { api: false, pollMs: 0 },
    );
    const quickMs = timeIt(20, () => w.quickCheckFails());
    const sample = proc.listPids().slice(0, 200);
    let k = 0;
    const lookupMs = timeIt(2000, () => {
      w.containerOfPid(sample[k++ % sample.length] ?? 1);
    });
    await w.close();

    // Per 10 polls: 9 quick checks and one full rescan (see ContainerWatcher.poll).
    const pollPct = ((9 * quickMs + scanMs) / 10 / 1000) * 100;
    const row = (what: string, m: { wall: number; cpu: number; maxRssMiB: number }): string =>
      `| ${what} | ${(m.wall * 1000).toFixed(0)} ms | ${(m.cpu * 1000).toFixed(0)} ms | ${m.maxRssMiB.toFixed(0)} MiB |`;
    return {
      title: `containers: discovery on ${procs} processes, ${found} containers`,
      lines: [
        `| command | wall (best of ${repeat}) | CPU | peak RSS |`,
        '|---|---|---|---|',
        row('lsns -t pid', lsns),
        row('nstrace containers --no-api', cli),
        row('node -e 0 (startup alone)', nodeOnly),
        '',
        `nstrace containers --no-api costs ${(cli.cpu / lsns.cpu).toFixed(1)}x lsns' CPU; ` +
          `${((cli.cpu - nodeOnly.cpu) * 1000).toFixed(0)} ms of it beyond node's startup`,
        `one /proc rescan (watcher poll): ${scanMs.toFixed(2)} ms CPU = ${((scanMs * 1000) / procs).toFixed(1)} µs per process`,
        `quick poll check: ${quickMs.toFixed(2)} ms CPU; average poll (9 quick + 1 full): ${((9 * quickMs + scanMs) / 10).toFixed(2)} ms`,
        `containerOfPid: ${(lookupMs * 1000).toFixed(1)} µs CPU per call`,
      ],
      bars: [
        {
          name: `watcher poll cost at 1 s (${procs} processes)`,
          value: `${pollPct.toFixed(2)}% of a core`,
          bar: '< 1%',
          pass: pollPct < 1,
        },
        {
          name: 'containerOfPid',
          value: `${(lookupMs * 1000).toFixed(1)} µs`,
          bar: '< 50 µs',
          pass: lookupMs * 1000 < 50,
        },
        {
          name: 'nstrace containers --no-api runs',
          value: `exit ${cli.code}`,
          bar: 'exit 0',
          pass: cli.code === 0,
        },
      ],
    };
  } finally {
    stopAll(pids);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
}
