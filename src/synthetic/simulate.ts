/**
 * A small discrete-event simulation of a host running containers, writing its kernel trace with
 * `KernelTraceBuilder`: per-CPU run queues, time slices, syscalls with durations and errors,
 * page allocations, wakeups, migrations, forks into new pid namespaces, exits, and container
 * lifecycle events. Deterministic for a seed. Used for the bundled sample trace, the cputop
 * benchmark and end-to-end tests.
 */
import type { FlatNsType } from '../model/namespaces.js';
import { KernelTraceBuilder } from './kernel-trace.js';
import { hostTask } from './tasks.js';
import type { KernelTraceOptions, SynthContainer, SynthTask } from './tasks.js';

/** Mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Profile {
  /** Relative share of CPU when runnable. */
  weight: number;
  /** Syscalls per ms of CPU time. */
  syscallsPerMs: number;
  /** Page allocations per ms of CPU time (frees follow at the same rate, a bit later). */
  pagesPerMs: number;
  /** Syscalls it makes, with relative frequencies. */
  syscalls: ReadonlyArray<readonly [string, number]>;
  /** Fraction of syscalls that fail (EAGAIN/ENOENT). */
  errorRate: number;
  /** Fraction of time it sleeps (not runnable) between slices. */
  sleepy: number;
}

export const PROFILES = {
  web: {
    weight: 3,
    syscallsPerMs: 40,
    pagesPerMs: 4,
    syscalls: [
      ['epoll_wait', 3],
      ['read', 4],
      ['sendto', 3],
      ['write', 2],
      ['close', 1],
      ['openat', 1],
    ],
    errorRate: 0.05,
    sleepy: 0.4,
  },
  db: {
    weight: 5,
    syscallsPerMs: 25,
    pagesPerMs: 12,
    syscalls: [
      ['read', 5],
      ['write', 3],
      ['futex', 2],
      ['mmap', 1],
    ],
    errorRate: 0.01,
    sleepy: 0.2,
  },
  cache: {
    weight: 2,
    syscallsPerMs: 60,
    pagesPerMs: 2,
    syscalls: [
      ['epoll_wait', 2],
      ['read', 3],
      ['write', 3],
    ],
    errorRate: 0.1,
    sleepy: 0.5,
  },
  batch: {
    weight: 8,
    syscallsPerMs: 2,
    pagesPerMs: 20,
    syscalls: [
      ['mmap', 1],
      ['write', 1],
    ],
    errorRate: 0,
    sleepy: 0.05,
  },
  idle: {
    weight: 1,
    syscallsPerMs: 10,
    pagesPerMs: 0.5,
    syscalls: [
      ['clock_nanosleep', 3],
      ['futex', 2],
      ['read', 1],
    ],
    errorRate: 0.02,
    sleepy: 0.8,
  },
} satisfies Record<string, Profile>;

interface SimTask {
  task: SynthTask;
  profile: Profile;
  cpu: number;
  alive: boolean;
}

export interface SimOptions extends KernelTraceOptions {
  seed: number;
}

export class HostSim {
  readonly b: KernelTraceBuilder;
  readonly rnd: () => number;
  readonly cpus: number;
  now = 0;
  private readonly tasks: SimTask[] = [];
  private nextTid = 1000;
  /** Until `begin()`, tasks are created without events (they existed before the trace). */
  recording = false;
  private nextNs = 4026532200;
  private pendingFrees = new Array<number>();

  constructor(o: SimOptions) {
    this.rnd = prng(o.seed);
    // A UUID from the seed: the same scenario gives the same bytes.
    const uuid = o.uuid ?? Uint8Array.from({ length: 16 }, () => Math.floor(this.rnd() * 256));
    this.b = new KernelTraceBuilder({ ...o, uuid });
    this.cpus = o.cpus;
    this.pendingFrees = new Array<number>(o.cpus).fill(0);
  }

  /** A fresh pid namespace inode. */
  newNs(): number {
    return this.nextNs++;
  }

  tid(): number {
    return this.nextTid++;
  }

  /** Adds a task that existed before the trace (no fork event). */
  existing(task: SynthTask, profile: Profile): SynthTask {
    this.tasks.push({ task, profile, cpu: Math.floor(this.rnd() * this.cpus), alive: true });
    return task;
  }

  /** Forks `child` from `parent` at the current time on the parent's CPU. */
  fork(parent: SynthTask, child: SynthTask, profile: Profile): SynthTask {
    const cpu = this.tasks.find((t) => t.task === parent)?.cpu ?? 0;
    if (this.recording) this.b.fork(this.tick(cpu), cpu, parent, child);
    this.tasks.push({ task: child, profile, cpu, alive: true });
    return child;
  }

  /** A child process of `parent` in the same namespaces. */
  spawn(parent: SynthTask, comm: string, profile: Profile, thread = false): SynthTask {
    const tid = this.tid();
    const pid = thread ? parent.pid : tid;
    const ppid = thread ? parent.ppid : parent.pid;
    const levels = parent.levels.map((l, i) =>
      i === 0
        ? { ns: l.ns, vtid: tid, vpid: pid, vppid: ppid }
        : {
            ns: l.ns,
            vtid: l.vtid + 1 + Math.floor(this.rnd() * 50),
            vpid: thread ? l.vpid : l.vtid + 1,
            vppid: thread ? l.vppid : l.vpid,
          },
    );
    const leaf = levels[levels.length - 1]!;
    if (!thread) leaf.vpid = leaf.vtid;
    return this.fork(
      parent,
      { tid, pid, ppid, comm, prio: parent.prio, levels, ns: { ...parent.ns } },
      profile,
    );
  }

  /**
   * The init of a new container: a child of `parent` in a new pid namespace (and new
   * mnt/net/uts/ipc). `pidNs` forces the inode (to simulate inode reuse).
   */
  spawnContainerInit(parent: SynthTask, comm: string, profile: Profile, pidNs = this.newNs()): SynthTask {
    const tid = this.tid();
    const ns: Partial<Record<FlatNsType, number>> = {
      ...parent.ns,
      mnt: this.newNs(),
      net: this.newNs(),
      uts: this.newNs(),
      ipc: this.newNs(),
    };
    const levels = [
      ...parent.levels.map((l, i) => ({
        ns: l.ns,
        vtid: i === 0 ? tid : l.vtid + 100,
        vpid: i === 0 ? tid : l.vtid + 100,
        vppid: l.vpid,
      })),
      { ns: pidNs, vtid: 1, vpid: 1, vppid: 0 },
    ];
    return this.fork(parent, { tid, pid: tid, ppid: parent.pid, comm, prio: 20, levels, ns }, profile);
  }

  /** Declaration of the container whose init is `init`. */
  containerOf(init: SynthTask, c: Omit<SynthContainer, 'initPid' | 'pidNs' | 'ns'>): SynthContainer {
    const leaf = init.levels[init.levels.length - 1]!;
    const { mnt, net, uts, ipc, user, cgroup, time } = init.ns;
    return { ...c, initPid: init.pid, pidNs: leaf.ns, ns: { mnt, net, uts, ipc, user, cgroup, time } };
  }

  kill(t: SynthTask): void {
    const st = this.tasks.find((x) => x.task === t);
    if (st === undefined || !st.alive) return;
    st.alive = false;
    const cpu = st.cpu;
    if (this.b.running(cpu) === t) this.b.schedSwitch(this.tick(cpu), cpu, undefined, 16);
    this.b.exit(this.tick(cpu), cpu, t);
    this.b.free(this.tick(cpu), cpu, t);
  }

  /** Advances a CPU's clock a little and returns it (events on a CPU must not go back in time). */
  private readonly cpuNow: number[] = [];
  tick(cpu: number, by = 1 + Math.floor(this.rnd() * 3)): number {
    const t = Math.max(this.cpuNow[cpu] ?? 0, this.now) + by;
    this.cpuNow[cpu] = t;
    return t;
  }

  /**
   * Starts recording: every CPU switches to one of its tasks (so that every stream has data
   * from the start, as the per-CPU buffers of a real session do). Tasks created before are
   * known only through the statedump or contexts, as in a real trace.
   */
  begin(): void {
    this.recording = true;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const first = this.tasks.find((t) => t.alive && t.cpu === cpu);
      this.b.schedSwitch(this.tick(cpu), cpu, first?.task);
    }
  }

  /** A time on `cpu` after every event written so far on any CPU (for ordering across CPUs). */
  afterAll(cpu: number): number {
    let t = this.now;
    for (const c of this.cpuNow) if (c !== undefined && c > t) t = c;
    this.cpuNow[cpu] = t + 1;
    return t + 1;
  }

  /** Emits the statedump of every live task and the given container declarations on CPU 0. */
  statedump(containers: readonly SynthContainer[] = []): void {
    if (!this.recording) this.begin();
    this.b.statedumpStart(this.tick(0), 0);
    for (const t of this.tasks) if (t.alive) this.b.statedumpTask(this.tick(0), 0, t.task);
    for (const c of containers) this.b.container('statedump', this.tick(0), 0, c);
    this.b.statedumpEnd(this.tick(0), 0);
  }

  private pick(cpu: number): SimTask | undefined {
    const cands = this.tasks.filter((t) => t.alive && t.cpu === cpu && this.rnd() >= t.profile.sleepy);
    if (cands.length === 0) return undefined;
    let total = 0;
    for (const c of cands) total += c.profile.weight;
    let r = this.rnd() * total;
    for (const c of cands) {
      r -= c.profile.weight;
      if (r <= 0) return c;
    }
    return cands[cands.length - 1];
  }

  private pickSyscall(p: Profile): string {
    let total = 0;
    for (const [, w] of p.syscalls) total += w;
    let r = this.rnd() * total;
    for (const [n, w] of p.syscalls) {
      r -= w;
      if (r <= 0) return n;
    }
    return p.syscalls[0]![0];
  }

  /** Runs the scheduler on every CPU for `ns` nanoseconds of trace time. */
  run(ns: number): void {
    const end = this.now + ns;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      let t = Math.max(this.cpuNow[cpu] ?? 0, this.now);
      while (t < end) {
        const st = this.pick(cpu);
        const slice = 50_000 + Math.floor(this.rnd() * 1_500_000);
        this.cpuNow[cpu] = t;
        if (st === undefined) {
          if (this.b.running(cpu).tid !== 0) this.b.schedSwitch(this.tick(cpu), cpu, undefined);
          t = (this.cpuNow[cpu] ?? t) + slice;
          continue;
        }
        // Someone woke it up (from another CPU, sometimes).
        const from = this.rnd() < 0.3 ? Math.floor(this.rnd() * this.cpus) : cpu;
        if (from === cpu && this.b.running(cpu) !== st.task) this.b.wakeup(this.tick(cpu), cpu, st.task, cpu);
        if (this.b.running(cpu) !== st.task) this.b.schedSwitch(this.tick(cpu), cpu, st.task);
        const sliceEnd = Math.min(end, (this.cpuNow[cpu] ?? t) + slice);
        const ms = slice / 1e6;
        const nSys = Math.round(st.profile.syscallsPerMs * ms * (0.5 + this.rnd()));
        const nPages = Math.round(st.profile.pagesPerMs * ms * (0.5 + this.rnd()));
        const n = nSys + nPages;
        const step = n > 0 ? Math.max(4, Math.floor((sliceEnd - (this.cpuNow[cpu] ?? t)) / (n + 1))) : 0;
        for (let i = 0; i < n; i++) {
          if ((this.cpuNow[cpu] ?? t) + step >= sliceEnd) break;
          if (i < nSys) {
            const name = this.pickSyscall(st.profile);
            const dur = Math.min(step - 1, 200 + Math.floor(this.rnd() * 40_000));
            this.b.syscallEntry(this.tick(cpu, Math.max(1, step - dur)), cpu, name);
            const fail = this.rnd() < st.profile.errorRate;
            this.b.syscallExit(
              this.tick(cpu, dur),
              cpu,
              name,
              fail ? (this.rnd() < 0.5 ? -11 : -2) : Math.floor(this.rnd() * 4096),
            );
          } else {
            this.b.pageAlloc(this.tick(cpu, step), cpu);
            this.pendingFrees[cpu]!++;
            if (this.rnd() < 0.7 && this.pendingFrees[cpu]! > 0) {
              this.b.pageFree(this.tick(cpu), cpu);
              this.pendingFrees[cpu]!--;
            }
          }
        }
        // Occasionally move a task to another CPU.
        if (this.rnd() < 0.02 && this.cpus > 1) {
          const other = this.tasks[Math.floor(this.rnd() * this.tasks.length)]!;
          if (other.alive && other.task !== this.b.running(other.cpu)) {
            const dest = Math.floor(this.rnd() * this.cpus);
            if (dest !== other.cpu && other.cpu === cpu) {
              this.b.migrate(this.tick(cpu), cpu, other.task, other.cpu, dest);
              other.cpu = dest;
            }
          }
        }
        t = Math.max(sliceEnd, this.cpuNow[cpu] ?? sliceEnd);
        this.cpuNow[cpu] = t;
      }
    }
    this.now = end;
  }

  close(): void {
    this.b.close();
  }
}

export { hostTask };

const SEC = 1_000_000_000;

/**
 * The bundled sample: a 4-CPU host with Docker, Podman, Kubernetes (containerd), LXC, an
 * anonymous `unshare` namespace and a container nested in another, over 0.1 s; one container is
 * restarted (new pid namespace, same id) and a new one reuses a dead namespace's inode.
 */
export function writeSampleTrace(
  dir: string,
  opts: { seed?: number; durationNs?: number } = {},
): { events: number } {
  const sim = new HostSim({
    dir,
    cpus: 4,
    seed: opts.seed ?? 42,
    contexts: ['tid', 'pid_ns', 'vtid', 'mnt_ns', 'net_ns'],
    hostname: 'demo-host',
    packetSize: 32 * 1024,
  });
  const dur = opts.durationNs ?? 0.1 * SEC;
  const P = PROFILES;
  const systemd = sim.existing(hostTask(1, 1, 0, 'systemd'), P.idle);
  const sshd = sim.existing(hostTask(612, 612, 1, 'sshd'), P.idle);
  const dockerd = sim.existing(hostTask(740, 740, 1, 'dockerd'), P.idle);
  const containerd = sim.existing(hostTask(701, 701, 1, 'containerd'), P.idle);
  const lxc = sim.existing(hostTask(980, 980, 1, 'lxc-start'), P.idle);
  const bash = sim.existing(hostTask(1210, 1210, 612, 'bash'), P.idle);
  void sshd;
  const t0 = BigInt(Date.UTC(2026, 0, 1)) * 1000000n;
  // Containers running before the trace starts.
  const mk = (
    parent: SynthTask,
    comm: string,
    p: Profile,
    workers: number,
    workerComm = comm,
  ): SynthTask[] => {
    const init = sim.spawnContainerInit(parent, comm, p);
    const out = [init];
    for (let i = 0; i < workers; i++) out.push(sim.spawn(init, workerComm, p));
    return out;
  };
  const web = mk(dockerd, 'nginx', P.web, 2);
  const db = mk(dockerd, 'postgres', P.db, 3);
  const cache = mk(containerd, 'redis-server', P.cache, 0);
  const api = mk(containerd, 'api-server', P.web, 2, 'api-worker');
  const lxc1 = mk(lxc, 'init', P.idle, 1, 'cron');
  const dind = mk(dockerd, 'dockerd', P.idle, 0);
  const inner = mk(dind[0]!, 'python3', P.batch, 1);
  const anon = mk(bash, 'stress-ng', P.batch, 0);
  void anon;
  /** A container whose init is the first of `tasks`, started `ago` seconds before the trace. */
  const declare = (
    tasks: SynthTask[],
    ago: bigint,
    c: Omit<SynthContainer, 'initPid' | 'pidNs' | 'ns' | 'startedAt'>,
  ): SynthContainer => sim.containerOf(tasks[0]!, { ...c, startedAt: t0 - ago * 1000000000n });
  /** A Docker container: its id the short id `id12` padded with `fill`, its cgroup the scope of that. */
  const docker = (
    tasks: SynthTask[],
    ago: bigint,
    [id12, fill]: readonly [string, string],
    name: string,
    image: string,
    cgroupPath = `/system.slice/docker-${id12}.scope`,
  ): SynthContainer =>
    declare(tasks, ago, { id: id12 + fill.repeat(52), name, type: 'docker', image, cgroupPath });
  const decl = {
    web: docker(web, 3600n, ['f3a9c0e1b2d4', '5'], 'web', 'nginx:1.27'),
    db: docker(db, 3500n, ['0b7e44d19a6c', '6'], 'db', 'postgres:16'),
    cache: declare(cache, 600n, {
      id: '9d1c2b3a4f5e' + '7'.repeat(52),
      name: 'cache',
      type: 'podman',
      image: 'docker.io/library/redis:7',
      cgroupPath: '/machine.slice/libpod-9d1c2b3a4f5e.scope',
    }),
    api: declare(api, 900n, {
      id: 'c0ffee00d00d' + '8'.repeat(52),
      name: 'api',
      type: 'containerd',
      image: 'registry.local/api:2.3',
      cgroupPath:
        '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-c0ffee00d00d.scope',
      podName: 'api-7c9f8d-xk2p4',
      podNamespace: 'shop',
      podUid: '1234abcd-0000-4000-8000-00000000beef',
    }),
    lxc1: declare(lxc1, 7200n, {
      id: 'lxc1',
      name: 'lxc1',
      type: 'lxc',
      image: '',
      cgroupPath: '/lxc.payload.lxc1',
    }),
    dind: docker(dind, 300n, ['d1d1d1d1d1d1', '9'], 'ci-runner', 'docker:27-dind'),
    // Nested in ci-runner: its cgroup below ci-runner's.
    inner: docker(
      inner,
      60n,
      ['a11a11a11a11', '1'],
      'ci-job',
      'python:3.12',
      '/system.slice/docker-d1d1d1d1d1d1.scope/docker/a11a11a11a11',
    ),
  };
  void systemd;
  sim.statedump(Object.values(decl));
  sim.run(dur * 0.4);
  // The cache container is restarted: its processes exit, a new init in a new namespace.
  for (const t of cache) sim.kill(t);
  sim.b.container('stop', sim.tick(0), 0, decl.cache);
  sim.run(dur * 0.1);
  const cache2 = mk(containerd, 'redis-server', P.cache, 1);
  sim.b.container(
    'start',
    sim.tick(0),
    0,
    sim.containerOf(cache2[0]!, { ...decl.cache, startedAt: t0 + BigInt(Math.round(dur * 0.5)) }),
  );
  sim.run(dur * 0.5);
  sim.close();
  return { events: sim.b.count };
}

/**
 * The benchmark trace: a busy 4-CPU host with six containers and `tid`/`pid_ns` contexts, run
 * until at least `events` events (sched_switch, syscalls, wakeups, page events).
 */
export function writeBenchTrace(dir: string, events: number, seed = 7): { events: number } {
  const sim = new HostSim({
    dir,
    cpus: 4,
    seed,
    contexts: ['tid', 'pid_ns'],
    hostname: 'bench-host',
    packetSize: 1 << 20,
  });
  const P = PROFILES;
  const dockerd = sim.existing(hostTask(740, 740, 1, 'dockerd'), P.idle);
  sim.existing(hostTask(1, 1, 0, 'systemd'), P.idle);
  sim.existing(hostTask(612, 612, 1, 'sshd'), P.idle);
  const decls: SynthContainer[] = [];
  const profiles = [P.web, P.db, P.cache, P.batch, P.web, P.db];
  profiles.forEach((p, i) => {
    const init = sim.spawnContainerInit(dockerd, `app${i}`, p);
    for (let w = 0; w < 3; w++) sim.spawn(init, `app${i}-w${w}`, p);
    decls.push(
      sim.containerOf(init, {
        id: `bench${i}`.padEnd(64, '0'),
        name: `app${i}`,
        type: 'docker',
        image: `bench/app${i}`,
        cgroupPath: `/system.slice/docker-bench${i}.scope`,
        startedAt: 0n,
      }),
    );
  });
  sim.statedump(decls);
  while (sim.b.count < events) sim.run(50_000_000);
  sim.close();
  return { events: sim.b.count };
}
