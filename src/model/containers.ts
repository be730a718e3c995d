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
import type { FlatNsType } from './namespaces.js';
import type { Thread } from './threads.js';

export const HOST_NAME = '[HOST]';
export const HOST_TYPE = 'host';
/** Type of a container inferred from a pid namespace alone. */
export const ANONYMOUS_TYPE = 'unknown';

/** Where the model learned about a container. */
export type ContainerSource = 'host' | 'event' | 'namespace';

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

export class Container {
  /** Small dense key (0 = host) for per-container arrays. */
  readonly key: number;
  id: string;
  name: string;
  type: string;
  image = '';
  readonly isHost: boolean;
  source: ContainerSource;
  /** Latest pid namespace inode of the container. */
  pidNs: number | undefined;
  /** Every pid namespace the container had during the trace, in order. */
  readonly pidNsList: number[] = [];
  /** Other namespaces of the container's init, when a container event gave them. */
  readonly ns: Partial<Record<FlatNsType, number>> = {};
  initPid = 0;
  cgroupPath = '';
  podName = '';
  podNamespace = '';
  podUid = '';
  startedAt = 0n;
  /** Times (ns relative to the trace set base) of the first and last sign of life. */
  firstSeen: number | undefined;
  lastSeen: number | undefined;
  /** Time of the stop event, when seen. */
  stoppedAt: number | undefined;
  /** Container of the parent pid namespace, for nested containers (undefined: child of the host). */
  parent: Container | undefined;
  /** Threads bound to this container. */
  readonly threads: Thread[] = [];
  /** Set when merged into another container (it is then no longer listed). */
  mergedInto: Container | undefined;

  constructor(key: number, id: string, name: string, type: string, isHost: boolean, source: ContainerSource) {
    this.key = key;
    this.id = id;
    this.name = name;
    this.type = type;
    this.isHost = isHost;
    this.source = source;
  }

  /**
   * `name (pid_ns)` as lttng-analyses' container branch labels it; just the name for the host and
   * for a container named by its pid namespace inode.
   */
  get label(): string {
    if (this.isHost || this.pidNs === undefined || this.name === String(this.pidNs)) return this.name;
    return `${this.name} (${this.pidNs})`;
  }

  /** Widens the lifetime to include `ts`. */
  seen(ts: number): void {
    if (this.firstSeen === undefined || ts < this.firstSeen) this.firstSeen = ts;
    if (this.lastSeen === undefined || ts > this.lastSeen) this.lastSeen = ts;
  }
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
