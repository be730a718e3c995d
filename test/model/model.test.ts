import { describe, expect, it, vi } from 'vitest';
import type { EventRecord } from '../../src/ctf/event.js';
import { Dispatcher } from '../../src/model/dispatch.js';
import type { Subscriber } from '../../src/model/dispatch.js';
import { SystemModel } from '../../src/model/model.js';
import { ThreadTracker } from '../../src/model/threads.js';
import { TraceFormatError } from '../../src/util/errors.js';
import { FakeTrace } from '../helpers/records.js';

const HOST = 4026531836;

function run(model: SystemModel, records: EventRecord[], middle: Subscriber[] = []): void {
  const d = new Dispatcher([model.pre, ...middle, model.post]);
  for (const r of records) d.dispatch(r);
}

describe('SystemModel: scheduling state', () => {
  it('tracks the running thread per CPU, comms and priority changes', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    const changes: string[] = [];
    m.onPrioChanged((th, prio) => changes.push(`${th.tid}:${prio}`));
    run(m, [
      t.rec('sched_switch', 10, 1, {
        prev_tid: 0,
        prev_comm: 'swapper/1',
        next_tid: 42,
        next_comm: 'app',
        next_prio: 20,
      }),
      t.rec('sched_switch', 20, 1, {
        prev_tid: 42,
        prev_comm: 'app',
        prev_prio: 20,
        next_tid: 0,
        next_prio: 20,
      }),
    ]);
    expect(m.cpus[1]!.current).toBeUndefined();
    expect(m.cpus[1]!.currentTid).toBe(0);
    expect(m.threads.get(42)!.comm).toBe('app');
    // tid 0 never gets priority notifications; 42 changes once (undefined -> 20)
    expect(changes).toEqual(['42:20']);
    expect(m.knownCpuCount).toBe(1);
  });

  it('learns CPUs from wakeups and IRQs like lttng-analyses, not from syscalls', () => {
    const t = new FakeTrace({ cpus: 4 });
    const m = new SystemModel();
    run(m, [
      t.rec('sched_waking', 1, 0, { tid: 5, prio: 20, target_cpu: 3 }),
      t.rec('irq_handler_entry', 2, 2, { irq: 1 }),
      t.rec('syscall_entry_read', 3, 1),
    ]);
    expect(m.knownCpuCount).toBe(3);
    expect(m.cpus[1]?.known ?? false).toBe(false);
  });

  it('applies the pre-2.7.1 wakeup priority offset', () => {
    const t = new FakeTrace({ env: { tracer_major: 2, tracer_minor: 6, tracer_patchlevel: 0 } });
    const m = new SystemModel();
    run(m, [t.rec('sched_wakeup', 1, 0, { tid: 5, prio: 120, target_cpu: 0 })]);
    expect(m.threads.get(5)!.prio).toBe(20);
  });

  it('ignores a wakeup of a thread already running', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    run(m, [
      t.rec('sched_switch', 1, 0, { prev_tid: 0, next_tid: 5, next_comm: 'x', next_prio: 20 }),
      t.rec('sched_waking', 2, 1, { tid: 5, prio: 10, target_cpu: 0 }),
    ]);
    expect(m.threads.get(5)!.prio).toBe(20);
  });

  it('matches syscall exits to the entry of the running thread and clears them after the analyses', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    const seen: Array<[string | undefined, number, number]> = [];
    const probe: Subscriber = {
      bind: (info) =>
        info.name.startsWith('syscall_exit_')
          ? () => {
              const th = m.exitThread;
              if (th !== undefined) seen.push([th.sysName, th.sysEntry, m.exitRet]);
            }
          : undefined,
    };
    run(
      m,
      [
        t.rec('syscall_entry_open', 5, 0),
        t.rec('sched_switch', 10, 0, { prev_tid: 0, next_tid: 7, next_comm: 'cat' }),
        t.rec('syscall_entry_open', 11, 0),
        t.rec('syscall_exit_open', 15, 0, { ret: -2 }),
        t.rec('syscall_exit_open', 16, 0, { ret: 3 }),
      ],
      [probe],
    );
    expect(seen).toEqual([['open', 11, -2]]);
    expect(m.threads.get(7)!.sysName).toBeUndefined();
  });

  it('starts a new thread lifetime when a tid is forked again', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    run(m, [
      t.rec('sched_process_fork', 1, 0, {
        parent_tid: 1,
        parent_pid: 1,
        child_tid: 50,
        child_pid: 50,
        child_comm: 'a',
      }),
      t.rec('sched_process_exit', 2, 0, { tid: 50 }),
      t.rec('sched_process_free', 3, 0, { tid: 50 }),
      t.rec('sched_process_fork', 4, 0, {
        parent_tid: 1,
        parent_pid: 1,
        child_tid: 50,
        child_pid: 50,
        child_comm: 'b',
      }),
    ]);
    const lifetimes = m.allThreads.filter((th) => th.tid === 50);
    expect(lifetimes.map((th) => [th.comm, th.born, th.exited, th.freed])).toEqual([
      ['a', 1, 2, 3],
      ['b', 4, undefined, undefined],
    ]);
    expect(m.threads.get(50)).toBe(lifetimes[1]);
  });

  it('updates comm on exec from the file name when there is no procname context', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    run(m, [
      t.rec('sched_process_fork', 1, 0, {
        parent_tid: 1,
        parent_pid: 1,
        child_tid: 9,
        child_pid: 9,
        child_comm: 'bash',
      }),
      t.rec('sched_process_exec', 2, 0, { tid: 9, filename: '/usr/bin/a-very-long-program-name' }),
    ]);
    expect(m.threads.get(9)!.comm).toBe('a-very-long-pro');
  });
});

describe('SystemModel: a sched_switch it cannot read', () => {
  const FULL = 'prev_comm:s prev_tid prev_prio prev_state next_comm:s next_tid next_prio';
  const cases: Array<[string, string, RegExp]> = [
    // fuzz case tc-flipping-endianness-s3003-460: prev_tid renamed, then cputop crashed
    ['no prev_tid', FULL.replace('prev_tid', 'prev_tidx'), /has no field 'prev_tid'/],
    ['no next_tid', FULL.replace(' next_tid', ''), /has no field 'next_tid'/],
    // fuzz case containers-demo-s1001-475: a comm declared as integers
    ['an integer next_comm', FULL.replace('next_comm:s', 'next_comm'), /'next_comm' is an integer, not text/],
    ['a text prev_tid', FULL.replace('prev_tid', 'prev_tid:s'), /'prev_tid' is a string, not an integer/],
  ];
  for (const [what, layout, message] of cases) {
    it(`refuses one with ${what} with one typed error naming the field`, () => {
      const t = new FakeTrace({ layouts: { sched_switch: layout } });
      const m = new SystemModel();
      const ev = t.rec('sched_switch', 10, 1, {});
      let err: unknown;
      try {
        run(m, [ev]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TraceFormatError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('still reads one without the optional comms and prios', () => {
    const t = new FakeTrace({ layouts: { sched_switch: 'prev_tid next_tid' } });
    const m = new SystemModel();
    run(m, [t.rec('sched_switch', 10, 1, { prev_tid: 0, next_tid: 42 })]);
    expect(m.cpus[1]!.currentTid).toBe(42);
    expect(m.threads.get(42)!.comm).toBe('');
  });
});

describe('SystemModel: namespaces and containers', () => {
  it('builds nested pid levels from fork vtids and binds threads to containers', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    const C1 = 4026532001;
    const C2 = 4026532002;
    run(m, [
      // host shell 100 creates a container init 200 in a new pid namespace C1
      t.rec('lttng_statedump_process_pid_ns', 1, 0, {
        tid: 100,
        vtid: 100,
        vpid: 100,
        ns_level: 0,
        ns_inum: HOST,
      }),
      t.rec('sched_process_fork', 2, 0, {
        parent_tid: 100,
        parent_pid: 100,
        parent_ns_inum: HOST,
        child_tid: 200,
        child_pid: 200,
        child_comm: 'init',
        vtids: [200, 1],
        child_ns_inum: C1,
      }),
      // the container init forks a process in a nested namespace C2
      t.rec('sched_process_fork', 3, 0, {
        parent_tid: 200,
        parent_pid: 200,
        parent_ns_inum: C1,
        child_tid: 300,
        child_pid: 300,
        child_comm: 'inner',
        vtids: [300, 7, 1],
        child_ns_inum: C2,
      }),
      // a thread of the nested process
      t.rec('sched_process_fork', 4, 0, {
        parent_tid: 300,
        parent_pid: 300,
        parent_ns_inum: C2,
        child_tid: 301,
        child_pid: 300,
        child_comm: 'inner',
        vtids: [301, 8, 2],
        child_ns_inum: C2,
      }),
    ]);
    m.finish();
    const t200 = m.threads.get(200)!;
    const t301 = m.threads.get(301)!;
    expect(t200.vtid).toBe(1);
    expect(t200.pidLevels!.map((l) => l.inum)).toEqual([HOST, C1]);
    expect(t301.pidLevels!.map((l) => [l.inum, l.vtid, l.vpid])).toEqual([
      [HOST, 301, 300],
      [C1, 8, 7],
      [C2, 2, 1],
    ]);
    expect(m.threadByVtid(C2, 2)).toBe(t301);
    const c1 = m.containerOf(t200);
    const c2 = m.containerOf(t301);
    expect([c1.name, c1.type, c1.id]).toEqual([String(C1), 'unknown', `pidns:${C1}`]);
    expect(c2.parent).toBe(c1);
    expect(m.containerOf(m.threads.get(100)!).isHost).toBe(true);
    // every thread lands in exactly one container
    const all = m.containers.all().flatMap((c) => c.threads);
    expect(new Set(all).size).toBe(m.allThreads.length);
    expect(all.length).toBe(m.allThreads.length);
  });

  it('reads the >= 2.12 pid_ns statedump (deepest level first)', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    const C = 4026532100;
    run(m, [
      t.rec('lttng_statedump_process_state', 1, 0, { tid: 500, pid: 500, ppid: 400, name: 'nginx' }),
      t.rec('lttng_statedump_process_pid_ns', 1, 0, {
        tid: 500,
        vtid: 1,
        vpid: 1,
        vppid: 0,
        ns_level: 1,
        ns_inum: C,
      }),
      t.rec('lttng_statedump_process_pid_ns', 1, 0, {
        tid: 500,
        vtid: 500,
        vpid: 500,
        vppid: 400,
        ns_level: 0,
        ns_inum: HOST,
      }),
      t.rec('lttng_statedump_process_user_ns', 1, 0, {
        tid: 500,
        vuid: 0,
        vgid: 0,
        ns_level: 0,
        ns_inum: 4026531837,
      }),
      t.rec('lttng_statedump_process_mnt_ns', 1, 0, { tid: 500, ns_inum: 4026532200 }),
    ]);
    const th = m.threads.get(500)!;
    expect(th.pidNs).toBe(C);
    expect(th.vtid).toBe(1);
    expect(th.pidLevels!.map((l) => l.inum)).toEqual([HOST, C]);
    expect(th.ns.mnt).toBe(4026532200);
    expect(th.ns.user).toBe(4026531837);
    expect(m.namespaces.pid.get(C)).toMatchObject({ level: 1, parent: HOST });
    expect(m.containerOf(th).pidNs).toBe(C);
  });

  it('reads the pre-2.12 statedump layout with namespace fields in process_state', () => {
    const t = new FakeTrace({ legacyStatedump: true });
    const m = new SystemModel();
    const C = 4026532300;
    run(m, [
      t.rec('lttng_statedump_process_state', 1, 0, {
        tid: 600,
        vtid: 3,
        pid: 600,
        vpid: 3,
        ppid: 1,
        vppid: 0,
        name: 'redis',
        ns_level: 1,
        ns_inum: C,
      }),
      t.rec('lttng_statedump_process_state', 1, 0, {
        tid: 600,
        vtid: 600,
        pid: 600,
        vpid: 600,
        ppid: 1,
        vppid: 1,
        name: 'redis',
        ns_level: 0,
        ns_inum: HOST,
      }),
    ]);
    const th = m.threads.get(600)!;
    expect(th.comm).toBe('redis');
    expect(th.vtid).toBe(3);
    expect(th.pidNs).toBe(C);
    expect(m.coverage.legacyNsStatedump).toBe(true);
  });

  it('learns namespaces from stream contexts, with or without a tid context', () => {
    const t = new FakeTrace({ streamContext: ['pid_ns', 'vtid', 'net_ns'] });
    const m = new SystemModel();
    const C = 4026532400;
    run(m, [
      t.rec(
        'sched_switch',
        1,
        2,
        { prev_tid: 0, next_tid: 700, next_comm: 'php' },
        { pid_ns: HOST, vtid: 0 },
      ),
      t.rec('syscall_entry_read', 2, 2, {}, { pid_ns: C, vtid: 12, net_ns: 4026532999 }),
    ]);
    const th = m.threads.get(700)!;
    expect(th.pidNs).toBe(C);
    expect(th.vtid).toBe(12);
    expect(th.ns.net).toBe(4026532999);
    expect(m.containerOf(th).name).toBe(String(C));
  });

  it('names containers from container events, also when threads were seen first', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'] });
    const m = new SystemModel();
    const C = 4026532500;
    run(m, [
      t.rec(
        'sched_switch',
        1,
        0,
        { prev_tid: 0, next_tid: 800, next_comm: 'node' },
        { tid: 0, pid_ns: HOST },
      ),
      t.rec('syscall_entry_read', 2, 0, {}, { tid: 800, pid_ns: C }),
      t.rec('nstrace_container_start', 3, 1, {
        id: 'abc123',
        name: 'web',
        type: 'docker',
        image: 'node:20',
        init_pid: 800,
        pid_ns: C,
        mnt_ns: 4026532501,
      }),
    ]);
    m.finish();
    const c = m.containerOf(m.threads.get(800)!);
    expect([c.id, c.name, c.type, c.image, c.pidNs, c.ns.mnt]).toEqual([
      'abc123',
      'web',
      'docker',
      'node:20',
      C,
      4026532501,
    ]);
    expect(m.containers.all().map((x) => x.name)).toEqual(['[HOST]', 'web']);
    // its thread ran from t=1, before the namespace was known
    expect(c.firstSeen).toBe(1);
  });

  it('keeps one container per id across a restart with a new pid namespace', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'] });
    const m = new SystemModel();
    const NS1 = 4026532601;
    const NS2 = 4026532602;
    run(m, [
      t.rec('nstrace_container_statedump', 1, 0, { id: 'id1', name: 'db', type: 'podman', pid_ns: NS1 }),
      t.rec('syscall_entry_read', 2, 0, {}, { tid: 900, pid_ns: NS1 }),
      t.rec('nstrace_container_stop', 3, 0, { id: 'id1' }),
      // the restarted container's init is seen before its start event
      t.rec('syscall_entry_read', 4, 0, {}, { tid: 950, pid_ns: NS2 }),
      t.rec('nstrace_container_start', 5, 0, { id: 'id1', name: 'db', type: 'podman', pid_ns: NS2 }),
    ]);
    m.finish();
    const db = m.containers.byId('id1')!;
    expect(db.pidNsList).toEqual([NS1, NS2]);
    expect(db.pidNs).toBe(NS2);
    expect(m.containerOf(m.threads.get(900)!)).toBe(db);
    expect(m.containerOf(m.threads.get(950)!)).toBe(db);
    expect(m.containers.all().length).toBe(2);
  });

  it('does not mix two containers that reuse a pid namespace inode', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'] });
    const m = new SystemModel();
    const NS = 4026532700;
    run(m, [
      t.rec('nstrace_container_start', 1, 0, { id: 'A', name: 'a', type: 'docker', pid_ns: NS }),
      t.rec('syscall_entry_read', 2, 0, {}, { tid: 1000, pid_ns: NS }),
      t.rec('nstrace_container_stop', 3, 0, { id: 'A' }),
      t.rec('syscall_entry_read', 4, 0, {}, { tid: 1100, pid_ns: NS }),
      t.rec('nstrace_container_start', 5, 0, { id: 'B', name: 'b', type: 'docker', pid_ns: NS }),
    ]);
    m.finish();
    expect(m.containerOf(m.threads.get(1000)!).id).toBe('A');
    expect(m.containerOf(m.threads.get(1100)!).id).toBe('B');
    expect(m.containers.byId('A')!.stoppedAt).toBe(3);
  });

  it('reads the 2018 container statedump event', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'] });
    const m = new SystemModel();
    const NS = 4026532800;
    run(m, [
      t.rec('lttng_statedump_container', 1, 0, { container_name: 'lxc1', container_type: 'lxc', pid_ns: NS }),
      t.rec('syscall_entry_read', 2, 0, {}, { tid: 1200, pid_ns: NS }),
    ]);
    const c = m.containerOf(m.threads.get(1200)!);
    expect([c.name, c.type, c.label]).toEqual(['lxc1', 'lxc', `lxc1 (${NS})`]);
    // the UST provider-prefixed name of the 2018 proposal
    run(m, [
      t.rec('ust_container_statedump:lttng_statedump_container', 3, 0, {
        container_name: 'lxd2',
        container_type: 'lxd',
        pid_ns: NS + 1,
      }),
      t.rec('syscall_entry_read', 4, 0, {}, { tid: 1201, pid_ns: NS + 1 }),
    ]);
    expect(m.containerOf(m.threads.get(1201)!).name).toBe('lxd2');
  });

  it('groups threads into processes', () => {
    const t = new FakeTrace();
    const m = new SystemModel();
    run(m, [
      t.rec('sched_process_fork', 1, 0, {
        parent_tid: 1,
        parent_pid: 1,
        child_tid: 70,
        child_pid: 70,
        child_comm: 'app',
      }),
      t.rec('sched_process_fork', 2, 0, {
        parent_tid: 70,
        parent_pid: 70,
        child_tid: 71,
        child_pid: 70,
        child_comm: 'app',
      }),
    ]);
    const p = m.processes().get(70)!;
    expect(p.map((th) => th.tid)).toEqual([70, 71]);
    expect(m.threads.get(71)!.ppid).toBe(1);
  });
});

describe('SystemModel: stream event contexts', () => {
  /** Records of one task on CPU 0, of several classes, all with the reader's context version `v`. */
  function sameContext(t: FakeTrace, v: number, tid: number, ts: number): EventRecord[] {
    const names = ['syscall_entry_read', 'syscall_exit_read', 'syscall_entry_write', 'syscall_exit_write'];
    return names.map((n, i) => {
      const r = t.rec(n, ts + i, 0, {}, { tid, pid_ns: HOST });
      r.streamContextVersion = v;
      return r;
    });
  }

  it('resolves the thread of a context once per context version of a stream, whatever the classes', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'] });
    const m = new SystemModel();
    const lookups = vi.spyOn(ThreadTracker.prototype, 'thread');
    try {
      run(m, [...sameContext(t, 1, 800, 10), ...sameContext(t, 2, 801, 20), ...sameContext(t, 3, 800, 30)]);
      // One lookup per version: the classes after the first of each version take the shortcut.
      expect(lookups.mock.calls.map(([tid]) => tid)).toEqual([800, 801, 800]);
    } finally {
      lookups.mockRestore();
    }
    // Every record followed its thread all the same.
    expect(m.threads.get(800)!.lastSeen).toBe(33);
    expect(m.threads.get(801)!.lastSeen).toBe(23);
  });
});
