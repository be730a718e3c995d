/**
 * Containers of a trace and how threads map to them.
 *
 * A container is identified by its runtime id (stable across restarts, which give it a new pid
 * namespace). Names come from container events (`nstrace_container_statedump`/`_start`/`_stop`,
 * see docs/container-events.md, and the 2018 `lttng_statedump_container {container_name,
 * container_type, pid_ns}`); without them, every pid namespace other than the host's is a
 * container named by its inode. The host is the container `[HOST]`.
 *
 * The pid namespace → container mapping is time dependent: inodes are reused after a namespace
 * dies, so a thread is bound to a container when its pid namespace becomes known, and keeps it.
 * A container inferred from a namespace alone is upgraded in place when a container event names
 * that namespace later, so threads seen before the event land in the named container.
 */
import type { EventRecord } from '../ctf/event.js';
import type { ClassInfo, EventFn } from './dispatch.js';
import { Container } from './entities.js';
import type { ContainerSource, Thread } from './entities.js';
import type { FieldLocation } from './fields.js';
import { payloadField, payloadFields, readNum, toStr } from './fields.js';
import { FLAT_NS_TYPES } from './namespaces.js';
import type { FlatNsType } from './namespaces.js';

export { Container } from './entities.js';
export type { ContainerSource } from './entities.js';

export const HOST_NAME = '[HOST]';
export const HOST_TYPE = 'host';
/** Type of a container inferred from a pid namespace alone. */
export const ANONYMOUS_TYPE = 'unknown';

/** Payload of a container event, normalised (missing fields empty/0). */
export interface ContainerDecl {
  id: string;
  name: string;
  type: string;
  image: string;
  initPid: number;
  pidNs: number;
  ns: Partial<Record<FlatNsType, number>>;
  cgroupPath: string;
  podName: string;
  podNamespace: string;
  podUid: string;
  /** Start time, ns since the Unix epoch (0 when unknown). */
  startedAt: bigint;
}

const CONTAINER_EVENTS = {
  nstrace_container_statedump: 'statedump',
  nstrace_container_start: 'start',
  nstrace_container_stop: 'stop',
  lttng_statedump_container: 'legacy',
} as const;

/** Whether an event is a container event the model reads (nstrace's or the 2018 proposal's). */
export function isContainerEvent(name: string): boolean {
  return containerEventKind(name) !== undefined;
}

export function containerEventKind(
  name: string,
): (typeof CONTAINER_EVENTS)[keyof typeof CONTAINER_EVENTS] | undefined {
  const colon = name.lastIndexOf(':');
  const base = colon >= 0 ? name.slice(colon + 1) : name;
  return Object.prototype.hasOwnProperty.call(CONTAINER_EVENTS, base)
    ? CONTAINER_EVENTS[base as keyof typeof CONTAINER_EVENTS]
    : undefined;
}

export class ContainerRegistry {
  readonly host: Container;
  /** Incremented on every change of a container's identity (for caches keyed by container). */
  version = 0;
  private readonly byIdMap = new Map<string, Container>();
  /** Current pid namespace → container mapping. */
  private readonly byNs = new Map<number, Container>();
  private readonly list: Container[] = [];
  /** Called by the model to decide whether an inode is the host's pid namespace. */
  private readonly isHostNs: (inum: number) => boolean;
  /** Called to find the parent pid namespace of an inode, when known. */
  private readonly parentNs: (inum: number) => number | undefined;

  constructor(isHostNs: (inum: number) => boolean, parentNs: (inum: number) => number | undefined) {
    this.isHostNs = isHostNs;
    this.parentNs = parentNs;
    this.host = new Container(0, 'host', HOST_NAME, HOST_TYPE, true, 'host');
    this.list.push(this.host);
    this.byIdMap.set(this.host.id, this.host);
  }

  /** Every container (the host first), in order of discovery, merged ones excluded. */
  all(): Container[] {
    return this.list.filter((c) => c.mergedInto === undefined);
  }

  /** The container of a key (the one it was merged into, if it was). */
  byKey(key: number): Container | undefined {
    const c = this.list[key];
    return c === undefined ? undefined : resolveMerged(c);
  }

  /** Number of keys handed out (for sizing per-container arrays). */
  get keyCount(): number {
    return this.list.length;
  }

  byId(id: string): Container | undefined {
    const c = this.byIdMap.get(id);
    return c === undefined ? undefined : resolveMerged(c);
  }

  /** The container a pid namespace currently maps to, without creating one. */
  peekNs(inum: number): Container | undefined {
    const c = this.byNs.get(inum);
    return c === undefined ? undefined : resolveMerged(c);
  }

  /**
   * This registry's container for `c`, the container of pid namespace `inum` in another registry
   * fed the same trace. Keys differ where the two replays met containers in simultaneous events
   * in other orders: the match is the container that had `inum` when `c` was first seen (the
   * latest seen by then and not stopped before).
   */
  sameAs(c: Container, inum: number): Container | undefined {
    if (c.isHost) return this.host;
    const t = c.firstSeen ?? Number.POSITIVE_INFINITY;
    let best: Container | undefined;
    for (const x of this.list) {
      if (x.mergedInto !== undefined || !x.pidNsList.includes(inum)) continue;
      const first = x.firstSeen ?? Number.NEGATIVE_INFINITY;
      if (first > t || (x.stoppedAt !== undefined && x.stoppedAt < t)) continue;
      if (best === undefined || first > (best.firstSeen ?? Number.NEGATIVE_INFINITY)) best = x;
    }
    return best ?? this.peekNs(inum);
  }

  /**
   * The container of a pid namespace at time `ts`: the host for the root namespace, the current
   * mapping, or a new container named by the inode.
   */
  forPidNs(inum: number, ts: number): Container {
    if (this.isHostNs(inum)) return this.host;
    const cur = this.peekNs(inum);
    if (cur !== undefined && cur.stoppedAt === undefined) return cur;
    // Unknown, or its container stopped: the inode was (re)used by a new container.
    const c = this.create(this.anonymousId(inum), String(inum), ANONYMOUS_TYPE, 'namespace');
    this.attachNs(c, inum);
    c.seen(ts);
    return c;
  }

  /** Binds a thread to the container of its pid namespace. */
  bind(thread: Thread, container: Container): void {
    const old = thread.container;
    if (old === container) return;
    if (old !== undefined) {
      const i = old.threads.indexOf(thread);
      if (i >= 0) old.threads.splice(i, 1);
    }
    thread.container = container;
    container.threads.push(thread);
  }

  /** A container statedump or start event (`kind`), or the 2018 legacy statedump. */
  declare(d: ContainerDecl, ts: number, kind: 'statedump' | 'start' | 'legacy'): Container {
    const nsCur = d.pidNs !== 0 ? this.peekNs(d.pidNs) : undefined;
    let c = this.byId(d.id);
    if (c === undefined) {
      if (nsCur !== undefined && nsCur.source === 'namespace' && nsCur.stoppedAt === undefined) {
        // Threads of this namespace were seen before the event: name that container in place.
        this.byIdMap.delete(nsCur.id);
        c = nsCur;
        c.id = d.id;
        c.source = 'event';
        this.byIdMap.set(c.id, c);
      } else {
        c = this.create(d.id, d.name, d.type, 'event');
      }
    } else if (c.isHost) {
      return c;
    }
    if (d.name !== '') c.name = d.name;
    if (d.type !== '') c.type = d.type;
    if (d.image !== '') c.image = d.image;
    if (d.initPid !== 0) c.initPid = d.initPid;
    if (d.cgroupPath !== '') c.cgroupPath = d.cgroupPath;
    if (d.podName !== '') c.podName = d.podName;
    if (d.podNamespace !== '') c.podNamespace = d.podNamespace;
    if (d.podUid !== '') c.podUid = d.podUid;
    if (d.startedAt !== 0n) c.startedAt = d.startedAt;
    for (const [k, v] of Object.entries(d.ns) as Array<[FlatNsType, number]>) if (v !== 0) c.ns[k] = v;
    if (kind !== 'legacy') c.stoppedAt = undefined;
    this.version++;
    if (d.pidNs !== 0 && !this.isHostNs(d.pidNs)) {
      if (
        nsCur !== undefined &&
        nsCur !== c &&
        nsCur.source === 'namespace' &&
        nsCur.stoppedAt === undefined
      ) {
        // e.g. a restart whose new namespace was seen before the start event.
        this.merge(nsCur, c);
      }
      this.attachNs(c, d.pidNs);
    }
    c.seen(ts);
    return c;
  }

  /** A container stop event. */
  stop(id: string, ts: number): Container | undefined {
    const c = this.byId(id);
    if (c === undefined || c.isHost) return c;
    c.stoppedAt = ts;
    c.seen(ts);
    this.version++;
    return c;
  }

  /** The handler of a container event class (`kind` from `containerEventKind`). */
  bindEvent(info: ClassInfo, kind: 'statedump' | 'start' | 'stop' | 'legacy'): EventFn {
    const ec = info.eventClass;
    const s = (loc: FieldLocation | undefined, ev: EventRecord): string =>
      loc === undefined ? '' : toStr(loc.get(ev));
    const n = (loc: FieldLocation | undefined, ev: EventRecord): number => {
      const v = readNum(loc, ev);
      return Number.isFinite(v) ? v : 0;
    };
    if (kind === 'legacy') {
      const [nameF, typeF, nsF] = payloadFields(info, 'container_name', 'container_type', 'pid_ns');
      return (ev) => {
        const name = s(nameF, ev);
        if (name === '') return;
        this.declare(
          { ...emptyDecl(), id: name, name, type: s(typeF, ev), pidNs: n(nsF, ev) },
          ev.ts,
          'legacy',
        );
      };
    }
    const [idF, nameF, typeF, imageF] = payloadFields(info, 'id', 'name', 'type', 'image');
    const [initF, pidNsF, cgF, startedF] = payloadFields(
      info,
      'init_pid',
      'pid_ns',
      'cgroup_path',
      'started_at',
    );
    const nsF = FLAT_NS_TYPES.map((t) => [t, payloadField(ec, `${t}_ns`)] as const);
    const [podNameF, podNsF, podUidF] = payloadFields(info, 'pod_name', 'pod_namespace', 'pod_uid');
    return (ev) => {
      const id = s(idF, ev);
      if (id === '') return;
      if (kind === 'stop') {
        this.stop(id, ev.ts);
        return;
      }
      const ns: Partial<Record<FlatNsType, number>> = {};
      for (const [t, loc] of nsF) {
        const v = n(loc, ev);
        if (v > 0) ns[t] = v;
      }
      const started = startedF === undefined ? undefined : startedF.get(ev);
      this.declare(
        {
          id,
          name: s(nameF, ev),
          type: s(typeF, ev),
          image: s(imageF, ev),
          initPid: n(initF, ev),
          pidNs: n(pidNsF, ev),
          ns,
          cgroupPath: s(cgF, ev),
          podName: s(podNameF, ev),
          podNamespace: s(podNsF, ev),
          podUid: s(podUidF, ev),
          startedAt:
            typeof started === 'bigint' ? started : typeof started === 'number' ? BigInt(started) : 0n,
        },
        ev.ts,
        kind,
      );
    };
  }

  /** Sets parents from what the namespace registry knows (call before listing). */
  linkParents(): void {
    for (const c of this.list) {
      if (c.isHost || c.mergedInto !== undefined || c.pidNs === undefined) continue;
      const p = this.parentNs(c.pidNs);
      if (p === undefined || this.isHostNs(p)) continue;
      const pc = this.peekNs(p);
      if (pc !== undefined && pc !== c) c.parent = pc;
    }
  }

  private create(id: string, name: string, type: string, source: ContainerSource): Container {
    const c = new Container(this.list.length, id, name, type, false, source);
    this.version++;
    this.list.push(c);
    this.byIdMap.set(id, c);
    return c;
  }

  private attachNs(c: Container, inum: number): void {
    if (!c.pidNsList.includes(inum)) c.pidNsList.push(inum);
    c.pidNs = inum;
    this.byNs.set(inum, c);
    const p = this.parentNs(inum);
    if (p !== undefined && !this.isHostNs(p)) {
      const pc = this.peekNs(p);
      if (pc !== undefined && pc !== c) c.parent = pc;
    }
  }

  private merge(from: Container, into: Container): void {
    from.mergedInto = into;
    this.version++;
    this.byIdMap.delete(from.id);
    for (const t of from.threads.slice()) this.bind(t, into);
    if (from.firstSeen !== undefined) into.seen(from.firstSeen);
    if (from.lastSeen !== undefined) into.seen(from.lastSeen);
    for (const ns of from.pidNsList) if (!into.pidNsList.includes(ns)) into.pidNsList.push(ns);
  }

  private anonymousId(inum: number): string {
    const base = `pidns:${inum}`;
    if (!this.byIdMap.has(base)) return base;
    for (let n = 2; ; n++) {
      const id = `${base}#${n}`;
      if (!this.byIdMap.has(id)) return id;
    }
  }
}

function resolveMerged(c: Container): Container {
  while (c.mergedInto !== undefined) c = c.mergedInto;
  return c;
}

function emptyDecl(): ContainerDecl {
  return {
    id: '',
    name: '',
    type: '',
    image: '',
    initPid: 0,
    pidNs: 0,
    ns: {},
    cgroupPath: '',
    podName: '',
    podNamespace: '',
    podUid: '',
    startedAt: 0n,
  };
}
