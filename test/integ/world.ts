/**
 * Kernel traces with known containers for the filter ↔ model ↔ print/analyses tests, written with
 * the CTF writer through the host simulation (src/synthetic/simulate.ts), and the ground truth
 * the generator knows: which container (or the host) every task ran in, and through which pid
 * namespace.
 *
 * The host runs `web` (docker, three tasks), `ci-runner` (docker) with `ci-job` (docker) nested
 * in it, `cache` (podman) restarted during the trace under a new pid namespace, `old` (docker)
 * stopped and its pid namespace inode then reused by `new` (docker), and an `unshare`d namespace
 * that no container event names. Container events follow the fork of the container's init at
 * once, as a recorder watching the runtime would write them, unless `lag` delays the restart's
 * start event.
 */
import { join } from 'node:path';
import { HostSim, PROFILES } from '../../src/synthetic/simulate.js';
import type { ContextName, SynthContainer, SynthTask } from '../../src/synthetic/tasks.js';
import { hostTask } from '../../src/synthetic/tasks.js';

/** What the generator knows about a task's container (undefined: the host). */
export interface Truth {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** The task's own (deepest) pid namespace. */
  readonly pidNs: number;
}

export interface WorldOptions {
  /** `none`: containers start during the trace (their forks are in it). */
  statedump: 'modern' | 'legacy' | 'none';
  /** Namespace fields in sched_process_fork (default true). */
  forkNs?: boolean;
  /** nstrace's container events, or the 2018 `lttng_statedump_container` (no stop event). */
  containerEvents: 'nstrace' | 'legacy';
  contexts: ContextName[];
  /** The restarted `cache` runs 10 ms before its start event. */
  lag?: boolean;
}

export interface World {
  trace: string;
  /** Container of every task by tid (no tid is reused); undefined for the host's. */
  tasks: Map<number, Truth | undefined>;
  /** tids of the restarted `cache` (second pid namespace). */
  cache2: number[];
  /** pid namespace inodes: `cache` before and after the restart, the one `old` and `new` share. */
  ns: { cache1: number; cache2: number; reused: number; anon: number };
  webId: string;
}

export function buildWorld(dir: string, o: WorldOptions): World {
  const trace = join(dir, 'kernel');
  const sim = new HostSim({
    dir: trace,
    cpus: 3,
    seed: 4321,
    contexts: o.contexts,
    statedump: o.statedump === 'legacy' ? 'legacy' : 'modern',
    forkNs: o.forkNs ?? true,
    packetSize: 16 * 1024,
  });
  const P = PROFILES;
  const tasks = new Map<number, Truth | undefined>();
  const host = (t: SynthTask): SynthTask => {
    tasks.set(t.tid, undefined);
    return t;
  };
  const legacy = o.containerEvents === 'legacy';
  const truth = (c: SynthContainer, t: SynthTask): Truth => ({
    id: legacy ? c.name : c.id,
    name: c.name,
    type: c.type,
    pidNs: t.levels[t.levels.length - 1]!.ns,
  });
  const into = (c: SynthContainer, ...ts: SynthTask[]): void => {
    for (const t of ts) tasks.set(t.tid, truth(c, t));
  };
  if (o.statedump === 'none') sim.begin();
  const dockerd = host(sim.existing(hostTask(740, 740, 1, 'dockerd'), P.idle));
  const conmon = host(sim.existing(hostTask(900, 900, 1, 'conmon'), P.idle));
  const bash = host(sim.existing(hostTask(1210, 1210, 1, 'bash'), P.idle));
  host(sim.existing(hostTask(1, 1, 0, 'systemd'), P.idle));
  host(sim.existing(hostTask(1300, 1300, 1210, 'make'), P.batch));

  const decl = (init: SynthTask, id: string, name: string, type = 'docker'): SynthContainer =>
    sim.containerOf(init, {
      id,
      name,
      type,
      image: `${name}:1`,
      cgroupPath: `/${type}/${id}`,
      startedAt: 0n,
    });
  const announce = (kind: 'statedump' | 'start' | 'stop', c: SynthContainer): void => {
    const ts = sim.afterAll(0);
    if (!legacy) sim.b.container(kind, ts, 0, c);
    else if (kind !== 'stop') sim.b.legacyContainer(ts, 0, c.name, c.type, c.pidNs);
  };
  const started = o.statedump === 'none';
  const up = (c: SynthContainer): SynthContainer => {
    if (started) announce('start', c);
    return c;
  };

  const webInit = sim.spawnContainerInit(dockerd, 'nginx', P.web);
  const web = up(decl(webInit, 'aa'.repeat(32), 'web'));
  into(web, webInit, sim.spawn(webInit, 'nginx', P.web), sim.spawn(webInit, 'nginx', P.web, true));
  const runnerInit = sim.spawnContainerInit(dockerd, 'dockerd', P.idle);
  const runner = up(decl(runnerInit, 'bb'.repeat(32), 'ci-runner'));
  into(runner, runnerInit);
  const jobInit = sim.spawnContainerInit(runnerInit, 'python3', P.batch);
  const job = up(decl(jobInit, 'cc'.repeat(32), 'ci-job'));
  into(job, jobInit, sim.spawn(jobInit, 'python3', P.batch));
  const cacheInit = sim.spawnContainerInit(conmon, 'redis-server', P.cache);
  const cache = up(decl(cacheInit, 'dd'.repeat(32), 'cache', 'podman'));
  into(cache, cacheInit);
  const oldInit = sim.spawnContainerInit(dockerd, 'worker', P.db);
  const old = up(decl(oldInit, 'ee'.repeat(32), 'old'));
  into(old, oldInit);
  const anon = sim.spawnContainerInit(bash, 'stress-ng', P.batch);
  const anonNs = anon.levels[1]!.ns;
  tasks.set(anon.tid, { id: `pidns:${anonNs}`, name: String(anonNs), type: 'unknown', pidNs: anonNs });

  if (!started) {
    // The statedump runs on an idle CPU 0 (as lttng-sessiond's would, on the host): every CPU
    // is idle until the simulation first schedules it.
    sim.recording = true;
    sim.b.emptyPackets(0);
    sim.statedump(legacy ? [] : [web, runner, job, cache, old]);
    if (legacy) for (const c of [web, runner, job, cache, old]) announce('statedump', c);
    // Tasks start running after the statedump (the simulation runs one CPU after the other).
    sim.now = sim.afterAll(0);
    // Staggered, so that no two CPUs have events at the same time at first (babeltrace 1 and 2
    // order such ties differently, and lttng-analyses reads with the former).
    for (let cpu = 1; cpu < 3; cpu++) sim.tick(cpu, 4 * cpu);
  }
  sim.run(15_000_000);

  // cache restarts: same id, new pid namespace.
  sim.kill(cacheInit);
  announce('stop', cache);
  const cache2Init = sim.spawnContainerInit(conmon, 'redis-server', P.cache);
  const cache2Thread = sim.spawn(cache2Init, 'redis-server', P.cache, true);
  if (o.lag === true) sim.run(10_000_000);
  const cache2 = decl(cache2Init, cache.id, 'cache', 'podman');
  announce('start', cache2);
  into(cache2, cache2Init, cache2Thread);
  sim.run(5_000_000);

  // old stops; new reuses its pid namespace inode.
  sim.kill(oldInit);
  announce('stop', old);
  sim.run(2_000_000);
  const newInit = sim.spawnContainerInit(dockerd, 'worker', P.db, old.pidNs);
  const dNew = decl(newInit, 'ff'.repeat(32), 'new');
  announce('start', dNew);
  const newChild = sim.spawn(newInit, 'worker', P.db);
  // The 2018 event has no stop: the inode still maps to `old` at the fork of new's init.
  into(legacy ? old : dNew, newInit);
  into(dNew, newChild);
  sim.run(15_000_000);
  sim.close();
  return {
    trace,
    tasks,
    cache2: [cache2Init.tid, cache2Thread.tid],
    ns: { cache1: cache.pidNs, cache2: cache2.pidNs, reused: old.pidNs, anon: anonNs },
    webId: legacy ? web.name : web.id,
  };
}

/** One line of `nstrace print --no-delta` output and the task that produced its event. */
export interface PrintedEvent {
  readonly line: string;
  readonly name: string;
  readonly tid: number;
}

/**
 * The producing task of every line of an unfiltered print, found from the trace's own text (not
 * from nstrace's model): the `tid` context when the trace has it, else the task each CPU runs,
 * followed through the `sched_switch` lines (a switch is the previous task's event; the idle
 * task, tid 0, runs until a CPU's first switch).
 */
export function producers(text: string, tidContext: boolean): PrintedEvent[] {
  const current = new Map<number, number>();
  const out: PrintedEvent[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^\[[^\]]*\] \S+ ([^:]+): \{ cpu_id = (\d+) \}(?:, \{ tid = (\d+))?/.exec(line);
    if (m === null || (tidContext && m[3] === undefined)) throw new Error(`unexpected line: ${line}`);
    const ctxTid = tidContext ? Number(m[3]) : undefined;
    const name = m[1]!;
    const cpu = Number(m[2]);
    let tid = ctxTid ?? current.get(cpu) ?? 0;
    if (name === 'sched_switch') {
      const sw = /prev_tid = (\d+),.* next_tid = (\d+)/.exec(line)!;
      if (ctxTid === undefined) tid = Number(sw[1]);
      current.set(cpu, Number(sw[2]));
    }
    out.push({ line, name, tid });
  }
  return out;
}

/** The generator's container of a tid (tid 0, the idle task, is the host's). */
export function truthOf(w: World, tid: number): Truth | undefined {
  if (tid === 0) return undefined;
  if (!w.tasks.has(tid)) throw new Error(`tid ${tid} is not a task of the world`);
  return w.tasks.get(tid);
}
