/**
 * The system model as the filter's container lookup (`ContainerLookup`, src/filter/): which
 * container the task that produced an event belonged to, at the event's time.
 *
 * It works in one streaming pass, with the model fed every record (the rejected ones too):
 * `at(rec)` must be called after the model's `pre` phase has run for `rec` (after `post` is fine
 * too), and before the next record is dispatched. The task that produced an event is:
 *
 * - with a `_tid` context (kernel traces), that thread;
 * - for `sched_switch`, the previous task (the one switched out emitted it);
 * - otherwise in kernel traces, the task running on the stream's CPU (`cpu_id` of the packet
 *   context); the idle task, or none known yet, is the host;
 * - in userspace traces, the kernel thread of the `_pid_ns`/`_vtid` contexts when the trace set
 *   has a kernel trace that knows it, else the container of the `_pid_ns` context itself (named
 *   by its inode unless a container event named it).
 *
 * A thread's container is the one the model bound it to (its pid namespace's container when it
 * became known; a thread forked without namespace information takes its parent's). So a
 * container restarted under a new pid namespace is still found by its name and id, and a pid
 * namespace inode reused by another container maps to the new one. In one pass the answer is
 * what the model knows at the event's time: a task whose namespace it has not learnt yet is the
 * host's, a container not yet named by its event is named by its inode. With `useFinal(model)`,
 * a model that has replayed the same records to the end, the answer is the final one
 * (docs/adr/0180-one-filter-for-every-command.md).
 */
import type { EventRecord, TimeBase, TraceRecord } from '../ctf/event.js';
import type { ContainerInfo, ContainerLookup, ContainerMatcher } from '../filter/containers.js';
import { unmatchedSelectors } from '../filter/containers.js';
import type { Container } from './containers.js';
import { ANONYMOUS_TYPE, isContainerEvent } from './containers.js';
import { findField, toNum } from './fields.js';
import { Dispatcher } from './dispatch.js';
import type { SystemModel } from './model.js';
import type { Thread } from './threads.js';
import { setSlot } from '../util/map.js';

/** A model container seen through one of its pid namespaces; reads its identity live. */
class ContainerView implements ContainerInfo {
  constructor(
    readonly container: Container,
    readonly pidNs: number | undefined,
  ) {}
  get id(): string {
    return this.container.id;
  }
  get name(): string {
    return this.container.name;
  }
  get type(): string {
    return this.container.type;
  }
  get image(): string | undefined {
    const i = this.container.image;
    return i === '' ? undefined : i;
  }
}

/**
 * Every container of `list` but the host as the filter sees them: one entry per pid namespace
 * the container had (to check selectors against every incarnation).
 */
export function containerInfos(list: readonly Container[]): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const c of list) {
    if (c.isHost) continue;
    if (c.pidNsList.length === 0) out.push(new ContainerView(c, c.pidNs));
    for (const ns of c.pidNsList) out.push(new ContainerView(c, ns));
  }
  return out;
}

/**
 * One message per `--container` pattern and `--container-type` of `m` that selects no container
 * of the model (every incarnation counts), listing what the trace has.
 */
export function unmatchedSelectorMessages(
  m: ContainerMatcher,
  model: SystemModel,
  lookup?: ModelContainerLookup,
): string[] {
  const all = model.containers.all();
  const extra = lookup?.namespacesOnly() ?? [];
  const u = unmatchedSelectors(m, [...containerInfos(all), ...extra]);
  const out: string[] = [];
  if (u.patterns.length > 0) {
    const has = [
      ...all.map((c) =>
        c.isHost
          ? `${c.name} (--host)`
          : `${c.name} (${c.type}, id ${c.id.length > 16 ? c.id.slice(0, 12) : c.id}, pid_ns ${c.pidNsList.join('/')})`,
      ),
      ...extra.map((c) => `${c.name} (${c.type}, id ${c.id}, pid_ns ${String(c.pidNs)})`),
    ];
    out.push(
      `no container matches ${u.patterns.map((p) => `'${p}'`).join(', ')}; the trace has: ${has.join(', ')}`,
    );
  }
  if (u.types.length > 0) {
    const types = [...new Set([...all.filter((c) => !c.isHost), ...extra].map((c) => c.type))];
    out.push(
      `no container of type ${u.types.map((t) => `'${t}'`).join(', ')}; ` +
        (types.length === 0 ? 'the trace has no containers' : `the trace has: ${types.join(', ')}`),
    );
  }
  return out;
}

/** How the container of the producing task of an event class is found. */
type Resolver = (rec: EventRecord) => ContainerInfo | undefined;
/** How the producing task of an event class is found. */
type ThreadResolver = (rec: EventRecord) => Thread | undefined;

export class ModelContainerLookup implements ContainerLookup {
  /** The model fed as the records are read. */
  readonly model: SystemModel;
  /** Per event-class key. */
  private readonly resolvers: Array<Resolver | undefined> = [];
  /** Per thread uid: the last view handed out for it. */
  private readonly threadViews: Array<ContainerView | undefined> = [];
  /** Views of containers seen through a namespace alone (userspace traces), per container and inode. */
  private readonly nsViews = new Map<Container, Map<number, ContainerView>>();
  /** The complete replay's container of a container of the model and pid namespace (`ofPidNs`). */
  private readonly sameAs = new Map<Container, Map<number, Container | null>>();
  private sameAsVersion = -1;
  /** Pid namespaces that no model container has (yet), seen in userspace contexts. */
  private readonly anonymous = new Map<number, ContainerInfo>();

  /** A model that has replayed the whole trace already, for the final identities (see the constructor). */
  private final: SystemModel | undefined;

  /**
   * `model` is the model fed as the records are read. With `final`, a model of the same options
   * that has replayed the same records to the end (and `finish()`ed), the lookup answers with
   * what the whole trace tells: each task's final container (a container named by an event
   * after its tasks ran, a task whose namespace the statedump gave only later) instead of what
   * was known at the event's time. Both models see the same records, so a thread of `model` is
   * the one of `final` with the same tid and lifetime (`SystemModel.sameThread`: their uids may
   * differ where the replays order simultaneous events differently), a container the one that
   * had the same pid namespace then (`ContainerRegistry.sameAs`, for the same reason).
   */
  constructor(model: SystemModel, final?: SystemModel) {
    this.model = model;
    this.final = final;
  }

  /** Pid namespaces of userspace events that no container of the model has (named by their inode). */
  namespacesOnly(): ContainerInfo[] {
    return [...this.anonymous.values()];
  }

  /** Sets the complete replay (see the constructor), before the first lookup. */
  useFinal(final: SystemModel): void {
    this.final = final;
  }

  /** Changes whenever a container returned earlier may have been renamed, merged or stopped. */
  get version(): number {
    return this.final !== undefined ? 0 : this.model.containers.version;
  }

  at(rec: EventRecord): ContainerInfo | undefined {
    const r = this.resolvers[rec.classKey] ?? this.bind(rec);
    return r(rec);
  }

  /** The container of a thread as the model knows it now (undefined: the host). */
  ofThread(t: Thread | undefined): ContainerInfo | undefined {
    if (t === undefined) return undefined;
    if (this.final !== undefined) {
      // The same lifetime of the same tid: uids may differ (threads first seen in simultaneous
      // events of several CPUs, which the two replays may order differently).
      const ft = this.final.sameThread(t);
      if (ft === undefined) {
        throw new Error(
          `container lookup: lifetime ${t.lifetime} of tid ${t.tid} is not in the complete replay`,
        );
      }
      t = ft;
    }
    // Forked without namespace information: its parent's, as the model decides at the end.
    let src: Thread | undefined = t;
    while (src !== undefined && src.container === undefined) src = src.forkParent;
    const c = src?.container;
    if (c === undefined || c.isHost) return undefined;
    const uid = t.uid;
    const v = this.threadViews[uid];
    const ns = src!.pidNs ?? c.pidNs;
    if (v !== undefined && v.container === c && v.pidNs === ns) return v;
    const nv = new ContainerView(c, ns);
    this.threadViews[uid] = nv;
    return nv;
  }

  /** The container of a pid namespace at the current point of the replay (undefined: the host). */
  ofPidNs(inum: number): ContainerInfo | undefined {
    if (!(inum > 0)) return undefined;
    const reg = this.model.containers;
    if (this.model.namespaces.isHostPidNs(inum)) return undefined;
    let c = reg.peekNs(inum);
    // A namespace whose container stopped is, from now on, another one's (inode reuse).
    if (c !== undefined && c.stoppedAt !== undefined) c = undefined;
    if (this.final !== undefined) {
      // The same container in the complete replay, else the one the namespace maps to at its
      // end (a container event after the events of its tasks).
      if (c === undefined) c = this.final.containers.peekNs(inum);
      else {
        // (A merge in the model may change which container `c` is: answers kept per version.)
        if (this.sameAsVersion !== reg.version) {
          this.sameAs.clear();
          this.sameAsVersion = reg.version;
        }
        let m = this.sameAs.get(c);
        if (m === undefined) this.sameAs.set(c, (m = new Map()));
        let f = m.get(inum);
        if (f === undefined) m.set(inum, (f = this.final.containers.sameAs(c, inum) ?? null));
        c = f ?? undefined;
      }
    }
    if (c !== undefined) {
      if (c.isHost) return undefined;
      let m = this.nsViews.get(c);
      if (m === undefined) {
        m = new Map();
        this.nsViews.set(c, m);
      }
      let v = m.get(inum);
      if (v === undefined) {
        v = new ContainerView(c, inum);
        m.set(inum, v);
      }
      return v;
    }
    let a = this.anonymous.get(inum);
    if (a === undefined) {
      a = { id: `pidns:${inum}`, name: String(inum), type: ANONYMOUS_TYPE, pidNs: inum };
      this.anonymous.set(inum, a);
    }
    return a;
  }

  private bind(rec: EventRecord): Resolver {
    return setSlot(this.resolvers, rec.classKey, this.resolverFor(rec));
  }

  /**
   * The host thread that produced `rec` (as `at` finds it), or undefined: the idle task, a task
   * unknown to the model, a userspace event the join cannot attribute.
   */
  threadOf(rec: EventRecord): Thread | undefined {
    const r = this.threadResolvers[rec.classKey] ?? this.bindThread(rec);
    return r(rec);
  }

  /** `$ctx.host_tid`: the host tid of the task that produced `rec`, when known. */
  hostTid(rec: EventRecord): number | undefined {
    const t = this.threadOf(rec);
    return t === undefined || t.tid === 0 ? undefined : t.tid;
  }

  /** Per event-class key: how the producing thread is found. */
  private readonly threadResolvers: Array<ThreadResolver | undefined> = [];

  private bindThread(rec: EventRecord): ThreadResolver {
    return setSlot(this.threadResolvers, rec.classKey, this.threadResolverFor(rec));
  }

  private threadResolverFor(rec: EventRecord): ThreadResolver {
    const m = this.model;
    const stream = rec.stream;
    const sc = stream.streamClass;
    const ust = stream.trace.cls.env.get('domain') === 'ust';
    const iTid = findField(sc.eventContext, 'tid');
    const iPidNs = findField(sc.eventContext, 'pid_ns');
    const iVtid = findField(sc.eventContext, 'vtid');
    if (ust) {
      if (iPidNs < 0 || iVtid < 0) return () => undefined;
      return (ev) => {
        const ctx = ev.streamContext;
        if (ctx === undefined) return undefined;
        return m.threadByVtid(toNum(ctx[iPidNs]), toNum(ctx[iVtid]), ev.ts);
      };
    }
    if (iTid >= 0) {
      return (ev) => {
        const ctx = ev.streamContext;
        if (ctx === undefined) return undefined;
        const tid = toNum(ctx[iTid]);
        return tid > 0 ? m.threads.get(tid) : undefined;
      };
    }
    if (rec.eventClass.name === 'sched_switch' && findField(rec.eventClass.fields, 'prev_tid') >= 0) {
      // The model's `pre` has switched the CPU to the next task: the event is the previous one's.
      return () => m.switchPrev;
    }
    const iCpu = findField(sc.packetContext, 'cpu_id');
    if (iCpu < 0) return () => undefined;
    return (ev) => m.cpus[toNum(ev.packet.context?.[iCpu])]?.current;
  }

  private resolverFor(rec: EventRecord): Resolver {
    const stream = rec.stream;
    const ust = stream.trace.cls.env.get('domain') === 'ust';
    const iPidNs = findField(stream.streamClass.eventContext, 'pid_ns');
    if (ust) {
      if (iPidNs < 0) return () => undefined;
      return (ev) => {
        const t = this.threadOf(ev);
        if (t !== undefined) return this.ofThread(t);
        const ctx = ev.streamContext;
        return ctx === undefined ? undefined : this.ofPidNs(toNum(ctx[iPidNs]));
      };
    }
    return (ev) => {
      const t = this.threadOf(ev);
      return t === undefined || t.tid === 0 ? undefined : this.ofThread(t);
    };
  }
}

/**
 * Whether a complete replay (`useFinal`) can tell more than the replay as the records are read:
 * true when the set has a kernel trace (threads whose namespace a statedump or a fork tells
 * later) or container events (names given after a container's first events). A set of
 * userspace traces without container events is answered from each event's own `_pid_ns`.
 */
export function laterKnowledgeMatters(set: {
  readonly traces: readonly { readonly cls: { readonly env: ReadonlyMap<string, unknown> } }[];
  readonly eventClasses: readonly { readonly eventClass: { readonly name: string } }[];
}): boolean {
  return (
    set.traces.some((t) => t.cls.env.get('domain') !== 'ust') ||
    set.eventClasses.some((c) => isContainerEvent(c.eventClass.name))
  );
}

/** A source of records in time order (the reader's `TraceSet`, or a wrapper of it). */
export interface ModelFedSource {
  readonly base: TimeBase;
  next(): TraceRecord | null;
}

/**
 * `src`, with every event dispatched to `model` (both phases) as it is read, before the caller
 * sees it: the model's state, and so a `ModelContainerLookup` on it, is at that event's time.
 */
export function feedModel(src: ModelFedSource, model: SystemModel): ModelFedSource {
  const d = new Dispatcher([model.pre, model.post]);
  return {
    base: src.base,
    next(): TraceRecord | null {
      const r = src.next();
      if (r !== null && r.kind === 'event') d.dispatch(r);
      return r;
    },
  };
}
