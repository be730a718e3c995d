/**
 * The container lookup with a complete replay (`ModelContainerLookup(model, final)`): the two
 * models see the same records, but simultaneous events of two CPUs may come in another order
 * (the view reads in babeltrace 1's order for its model, in babeltrace2's for its events table),
 * so containers first seen in such events get other keys in each. A pid namespace must still
 * name its own container.
 */
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/ctf/event.js';
import { Dispatcher } from '../../src/model/dispatch.js';
import { ModelContainerLookup } from '../../src/model/lookup.js';
import { SystemModel } from '../../src/model/model.js';
import { FakeTrace } from '../helpers/records.js';

const HOST = 4026531836;
const A = 4026532601;
const B = 4026532602;
const C = 4026532603;

function fed(records: readonly EventRecord[]): SystemModel {
  const m = new SystemModel();
  const d = new Dispatcher([m.pre, m.post]);
  for (const r of records) d.dispatch(r);
  return m;
}

describe('container lookup against a complete replay', () => {
  it('names the container of a pid namespace when the replays met two containers in other orders', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'], cpus: 2 });
    const idle = (cpu: number, tid: number, comm: string): EventRecord =>
      t.rec(
        'sched_switch',
        1,
        cpu,
        { prev_tid: 0, next_tid: tid, next_comm: comm },
        { tid: 0, pid_ns: HOST },
      );
    // The first events of two containers at the same time on two CPUs, then a third one later.
    const a = t.rec('syscall_entry_read', 5, 0, {}, { tid: 800, pid_ns: A });
    const b = t.rec('syscall_entry_read', 5, 1, {}, { tid: 900, pid_ns: B });
    const c = t.rec('syscall_entry_read', 9, 0, {}, { tid: 800, pid_ns: C });
    const start = [idle(0, 800, 'nginx'), idle(1, 900, 'redis')];
    const model = fed([...start, a, b]);
    const final = fed([...start, b, a, c]);
    final.finish();
    // The keys really differ (else this test tests nothing).
    expect(model.containers.peekNs(A)!.key).toBe(final.containers.peekNs(B)!.key);

    const lookup = new ModelContainerLookup(model, final);
    expect(lookup.ofPidNs(A)?.name).toBe(String(A));
    expect(lookup.ofPidNs(B)?.name).toBe(String(B));
    expect(lookup.ofPidNs(HOST)).toBeUndefined();
    // Not met yet in the replay: the complete replay's container of the namespace.
    expect(lookup.ofPidNs(C)?.name).toBe(String(C));
  });

  it('names the container that had the namespace then, when a later one reuses its inode', () => {
    const t = new FakeTrace({ streamContext: ['tid', 'pid_ns'], cpus: 2 });
    const recs = [
      t.rec('nstrace_container_start', 2, 1, { id: 'id1', name: 'web', type: 'docker', pid_ns: A }),
      t.rec('syscall_entry_read', 3, 0, {}, { tid: 800, pid_ns: A }),
      t.rec('nstrace_container_stop', 20, 1, { id: 'id1' }),
      // A freed inode handed out again: another container.
      t.rec('nstrace_container_start', 30, 1, { id: 'id2', name: 'db', type: 'podman', pid_ns: A }),
      t.rec('syscall_entry_read', 31, 0, {}, { tid: 950, pid_ns: A }),
    ];
    const final = fed(recs);
    final.finish();
    expect(new ModelContainerLookup(fed(recs.slice(0, 2)), final).ofPidNs(A)?.name).toBe('web');
    expect(new ModelContainerLookup(fed(recs), final).ofPidNs(A)?.name).toBe('db');
  });
});
