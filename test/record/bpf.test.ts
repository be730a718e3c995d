/**
 * End-to-end, bpf backend: workloads in fresh namespaces (short-lived `cat`s, nested pid and
 * user namespaces, an unshare(2) mid-recording) recorded by BpfRecorder; every event of those
 * tasks must carry the namespaces and cgroup id /proc shows for them (0 unknown: the values
 * are read in the kernel at event time), the syscall strings must be right, babeltrace2 must
 * read the trace without a warning, and nothing of the recorder may stay in the kernel.
 *
 * Needs root and BPF: skipped elsewhere, failing (not skipped) when CI=true.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, type AnySummary } from '../../src/record/backend.js';
import { babeltrace2, tmpDir } from './helpers.js';
import { readEvents, type Ev } from './bpf-trace.js';
import { bpfSkip } from '../bpf/helpers.js';
import { hostView, NS_NAMES, type HostView } from './probe.js';
import { chainBreaks, inferredPrioCheck, tracedSwitches } from './sched-check.js';

const skip = bpfSkip();

/** A shell workload: prints `ready`, waits for a line, runs `body`, prints `done`, stays alive. */
class Workload {
  readonly proc: ChildProcess;
  out = '';
  constructor(prefix: string[], body: string) {
    const script = `echo ready; read x; ${body}; echo done; sleep 60`;
    const cmd = [...prefix, 'sh', '-c', script];
    this.proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  async until(word: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.out.split('\n').includes(word)) {
      if (Date.now() > end) throw new Error(`workload: no '${word}' (got ${this.out})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  go(): void {
    this.proc.stdin!.write('\n');
  }
  /** The `sh` running the script (the deepest descendant named sh). */
  shPid(): number {
    let pid = this.proc.pid!;
    for (let i = 0; i < 6; i++) {
      const kids = childrenOf(pid);
      if (kids.length === 0) break;
      pid = kids[0]!;
    }
    // The sh may have a child (sleep / cat) by now: walk back to the one named sh.
    while (comm(pid) !== 'sh') {
      const pp = Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      pid = pp;
    }
    return pid;
  }
  kill(): void {
    try {
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      this.proc.kill('SIGKILL');
    }
  }
}

function childrenOf(pid: number): number[] {
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

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function cgroupId(pid: number): string {
  const rel = /^0::(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]!;
  const root = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[2] === 'cgroup2')![1]!;
  return String(fs.statSync(path.join(root, rel), { bigint: true }).ino);
}

const CAT = 'i=0; while [ $i -lt 40 ]; do cat /proc/self/stat > /dev/null; i=$((i+1)); done';
const PID_NS = ['unshare', '--pid', '--fork', '--mount-proc', '--uts', '--ipc', '--net', '--cgroup'];
const NESTED = [
  'unshare',
  '--user',
  '--map-root-user',
  '--pid',
  '--fork',
  '--mount-proc',
  '--',
  'unshare',
  '--user',
  '--map-root-user',
  '--pid',
  '--fork',
  '--mount-proc',
];

interface Subject {
  view: HostView;
  cgroup: string;
}

let out = '';
let summary: AnySummary;
let events: Ev[] = [];
let single: Subject;
let nested: Subject;
let unsharer: { before: Subject; after: Subject; tid: number };
let bt = { status: -1, stderr: '' };

beforeAll(async () => {
  if (skip) return;
  out = tmpDir('bpf');
  const wl = [
    new Workload(PID_NS, CAT),
    new Workload(NESTED, CAT),
    // unshare(1) unshares (net, uts) in place, then runs a shell: one task across the change.
    new Workload([], `unshare --net --uts sh -c '${CAT}; echo unshared; sleep 60'`),
  ];
  try {
    for (const w of wl) await w.until('ready');
    const before = hostView(wl[2]!.shPid());
    const beforeCg = cgroupId(before.pid);
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const ac = new AbortController();
    const recP = record(
      {
        outDir: out,
        backend: 'bpf',
        events: [
          'sched_switch',
          'sched_process_*',
          'syscall_entry_openat',
          'syscall_entry_unshare',
          'syscall_entry_execve',
        ],
        signal: ac.signal,
        excludeChildren: false,
        onStarted: () => started(),
        onWarning: (m) => console.warn('REC-WARN', m),
      },
      { backend: 'bpf', reason: 'test' },
    );
    await startedP;
    for (const w of wl) w.go();
    await wl[0]!.until('done');
    await wl[1]!.until('done');
    await wl[2]!.until('unshared');
    single = { view: hostView(wl[0]!.shPid()), cgroup: cgroupId(wl[0]!.shPid()) };
    nested = { view: hostView(wl[1]!.shPid()), cgroup: cgroupId(wl[1]!.shPid()) };
    // The unsharing task: unshare(1) exec'd the inner sh (same tid); its shell is that tid.
    const inner = wl[2]!.shPid();
    unsharer = {
      before: { view: before, cgroup: beforeCg },
      after: { view: hostView(inner), cgroup: cgroupId(inner) },
      tid: inner,
    };
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    summary = await recP;
  } finally {
    for (const w of wl) w.kill();
  }
  events = readEvents(out);
  const b = babeltrace2([out]);
  bt = { status: b.status, stderr: b.stderr };
}, 240_000);

afterAll(() => {
  if (out && !process.env.KEEP_TRACE) fs.rmSync(out, { recursive: true, force: true });
});

/** Tids of the workload rooted at `pid`: itself and every descendant forked during the trace. */
function treeOf(pid: number): Set<number> {
  const tids = new Set([pid]);
  for (const e of events) {
    if (e.name === 'sched_process_fork' && tids.has(Number(e.f.parent_tid))) tids.add(Number(e.f.child_tid));
  }
  return tids;
}

function expectContexts(evs: Ev[], s: Subject, who: string): number {
  let n = 0;
  for (const e of evs) {
    for (const t of NS_NAMES)
      expect(e.ctx[`${t}_ns`], `${who}: ${e.name} ${t}_ns`).toBe(String(s.view.ns[t]));
    expect(e.ctx.cgroup_id, `${who}: ${e.name} cgroup_id`).toBe(s.cgroup);
    n++;
  }
  return n;
}

describe.skipIf(skip)('bpf backend: recording namespaced workloads', () => {
  it('writes a trace babeltrace2 reads without a warning, and loses nothing', () => {
    expect(bt.status).toBe(0);
    expect(bt.stderr).toBe('');
    expect(summary.backend).toBe('bpf');
    expect(events.length).toBe(summary.events);
    // No ring-buffer loss; events the kernel skipped because another program was running on
    // the CPU (an interrupt's tracepoint during a syscall's program) are counted as lost, rare.
    expect(summary.lost - summary.bpf!.recursionMisses).toBe(0);
    expect(summary.bpf!.recursionMisses).toBeLessThanOrEqual(summary.events / 1000);
    // ... and said in the trace, by the program's tracepoints (their CPU is not known).
    const marks = events.filter((e) => e.name === 'nstrace_kernel_skipped');
    expect(marks.reduce((n, e) => n + Number(e.f.count), 0)).toBe(summary.bpf!.recursionMisses);
    for (const m of marks) expect(m.f.tracepoints).toMatch(/^[a-z_]+:[a-z_]/);
  });

  it('short-lived tasks in a fresh pid namespace: every event carries the 8 namespaces and the cgroup id', () => {
    const tids = treeOf(single.view.pid);
    // The shell and its 40 cats (each living a few milliseconds).
    expect(tids.size).toBeGreaterThanOrEqual(41);
    const evs = events.filter((e) => tids.has(Number(e.ctx.tid)) && e.name !== 'sched_switch');
    expect(expectContexts(evs, single, 'single')).toBeGreaterThan(40 * 4);
    // Ids as seen inside: the shell is the namespace's init.
    for (const e of evs.filter((x) => Number(x.ctx.tid) === single.view.pid)) {
      expect(e.ctx.vtid).toBe('1');
      expect(e.ctx.vpid).toBe('1');
    }
    for (const e of evs.filter((x) => Number(x.ctx.tid) !== single.view.pid)) {
      expect(Number(e.ctx.vtid)).toBeGreaterThan(1);
      expect(e.ctx.vppid === '1' || e.ctx.vppid === undefined).toBe(true);
    }
  });

  it('nested pid and user namespaces: ids at the deepest level, vtids of every level at fork', () => {
    expect(nested.view.nsPids.length).toBe(3);
    const tids = treeOf(nested.view.pid);
    const evs = events.filter((e) => tids.has(Number(e.ctx.tid)) && e.name !== 'sched_switch');
    expect(expectContexts(evs, nested, 'nested')).toBeGreaterThan(40 * 4);
    const forks = events.filter(
      (e) => e.name === 'sched_process_fork' && Number(e.f.parent_tid) === nested.view.pid,
    );
    // 40 cats, and the `sleep` at the end.
    expect(forks.length).toBeGreaterThanOrEqual(40);
    for (const f of forks) {
      const vt = f.f.vtids!.slice(1, -1).split(',');
      expect(vt.length).toBe(3);
      expect(vt[0]).toBe(f.f.child_tid);
      expect(f.f.child_ns_inum).toBe(String(nested.view.ns.pid));
      expect(f.f.parent_ns_inum).toBe(String(nested.view.ns.pid));
    }
  });

  it('unshare(2) mid-recording: the old namespaces up to its exit, the new ones from there on', () => {
    const evs = events.filter((e) => Number(e.ctx.tid) === unsharer.tid && e.name !== 'sched_switch');
    const x = evs.findIndex((e) => e.name === 'syscall_exit_unshare' && e.f.ret === '0');
    if (x < 0)
      console.warn(
        'unsharer events',
        unsharer.tid,
        evs.map((e) => `${e.name}:${JSON.stringify(e.f)}`).slice(0, 30),
      );
    expect(x).toBeGreaterThan(0);
    // The exit itself fires after the change (the kernel switched nsproxy inside the syscall).
    expectContexts(evs.slice(0, x), unsharer.before, 'before unshare');
    expectContexts(evs.slice(x), unsharer.after, 'after unshare');
    expect(unsharer.after.view.ns.net).not.toBe(unsharer.before.view.ns.net);
  });

  it('openat filenames: the ones the cats open, none empty', () => {
    const tids = treeOf(single.view.pid);
    // The cats (and the shell's child before its exec: the redirection), not the final sleep.
    const sleeps = new Set(
      events
        .filter((e) => e.name === 'sched_process_exec' && e.f.filename === '/usr/bin/sleep')
        .map((e) => e.f.tid),
    );
    const opens = events.filter(
      (e) => e.name === 'syscall_entry_openat' && tids.has(Number(e.ctx.tid)) && !sleeps.has(e.ctx.tid),
    );
    expect(opens.length).toBeGreaterThanOrEqual(40 * 3);
    // Known (not empty); the loader's and locale files vary with the environment (compared
    // with strace in bpf-select.test.ts); the cats' own file, exactly once each.
    // Unknown ("") when the page was not resident at entry: counted in the summary (the
    // >= 99 % bar is checked on a longer loop in bpf-select.test.ts).
    const unknown = opens.filter((e) => e.f.filename === '');
    expect(unknown.length).toBeLessThanOrEqual(summary.bpf!.stringsUnknown);
    for (const e of opens) if (e.f.filename !== '') expect(e.f.filename, 'openat filename').toMatch(/^\//);
    expect(opens.filter((e) => e.f.filename === '/proc/self/stat').length).toBe(40);
  });

  it('whole switch chains: a switch the kernel did not report is written in the context of the task it switches out', () => {
    // This VM's kernel reports no switch out of PID 1's threads nor out of one CPU's idle task
    // (ADR 0161); the recorder writes them (nstrace_inferred = 1) from the context a switch to
    // that task (or its own last record) observed in the kernel (ADR 0167).
    const breaks = chainBreaks(tracedSwitches(out));
    expect(breaks.map((b) => `cpu ${b.cpu}: ${b.expectedPrev} then ${b.at.prev}->${b.at.next}`)).toEqual([]);
    const inferred = events.filter((e) => e.name === 'sched_switch' && e.f.nstrace_inferred === '1');
    expect(inferred.length).toBe(summary.inferredSwitches);
    // Their priorities: the kernel's last shown, or marked not observed (and counted).
    const prio = inferredPrioCheck(tracedSwitches(out));
    expect(prio.wrong).toEqual([]);
    expect(prio.unobserved).toBe(summary.inferredPrioUnobserved);
    expect(summary.bpf!.inferSkipped).toBe(0);
    const keys = Object.keys(events[0]!.ctx).filter(
      (k) => k.endsWith('_ns') || k === 'cgroup_id' || k === 'pid',
    );
    let compared = 0;
    for (const e of inferred) {
      expect(e.ctx.tid, 'context of the task switched out').toBe(e.f.prev_tid);
      expect(e.ctx.procname).toBe(e.f.prev_comm);
      // The same task's values elsewhere: its own events, else /proc (PID 1's threads stay;
      // their namespaces are not readable there, even by root: their pid and cgroup are).
      const tid = Number(e.f.prev_tid);
      const own = events.find((x) => x.ctx.tid === e.f.prev_tid && x.f.nstrace_inferred === undefined);
      let want: Record<string, string> | undefined = own?.ctx;
      if (want === undefined && tid > 0 && fs.existsSync(`/proc/${tid}`)) {
        const tgid = /^Tgid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${tid}/status`, 'utf8'))![1]!;
        want = { pid: tgid, cgroup_id: cgroupId(tid) };
        for (const t of NS_NAMES) {
          try {
            want[`${t}_ns`] = /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${tid}/ns/${t}`))![1]!;
          } catch {
            // not readable: not compared
          }
        }
      }
      if (want === undefined) continue;
      for (const k of keys)
        if (k in want) expect(e.ctx[k], `inferred switch out of ${tid}: ${k}`).toBe(want[k]);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(Math.min(inferred.length, 1));
  });

  it('statedump names the cgroups of the cgroup_id context', () => {
    const cg = events.filter((e) => e.name === 'nstrace_statedump_cgroup');
    expect(cg.length).toBeGreaterThan(0);
    expect(cg.some((e) => e.f.id === single.cgroup)).toBe(true);
    expect(cg.find((e) => e.f.path === '/')).toBeDefined();
  });
});
