/**
 * Record-time selection for the bpf backend (`--container`, `--container-type`, `--host`,
 * `--pid-ns`, `--cgroup`): resolved here into the kernel's selection maps, which the capture
 * programs check before writing anything (programs.ts `select`). A task is selected when its
 * pid namespace, its cgroup or an ancestor cgroup, or its tid is in those maps; a child of a
 * selected task is added at fork in the kernel; containers that start later are added when the
 * container watcher reports them.
 *
 * Containers are what the analyses call containers (src/filter/containers.ts): a `--container`
 * glob matches a name, an id (or id prefix) or a pid-namespace inode, `--container-type` a type;
 * their events are those of tasks in their pid namespace. `--host` is the initial pid namespace.
 */
import fs from 'node:fs';
import { UsageError } from '../../util/errors.js';
import {
  compileContainerMatcher,
  unmatchedSelectors,
  type ContainerMatcher,
} from '../../filter/containers.js';
import type { ContainerInfo } from '../../containers/index.js';
import type { ProcThread } from '../proc.js';
import { cgroupIdOf } from './cgroups.js';
import type { Capture } from './capture.js';

export interface RecordSelection {
  containers?: readonly string[] | undefined;
  containerTypes?: readonly string[] | undefined;
  host?: boolean | undefined;
  pidNs?: readonly number[] | undefined;
  cgroups?: readonly string[] | undefined;
}

export function hasRecordSelection(s: RecordSelection | undefined): boolean {
  return (
    s !== undefined &&
    ((s.containers?.length ?? 0) > 0 ||
      (s.containerTypes?.length ?? 0) > 0 ||
      s.host === true ||
      (s.pidNs?.length ?? 0) > 0 ||
      (s.cgroups?.length ?? 0) > 0)
  );
}

export class Selection {
  private readonly matcher: ContainerMatcher;
  private capture: Capture | undefined;
  readonly pidNs = new Set<number>();
  readonly cgroupIds = new Set<bigint>();
  /** Containers selected so far (name or id), for the summary. */
  readonly matched: string[] = [];
  private readonly seen: ContainerInfo[] = [];

  constructor(
    readonly spec: RecordSelection,
    private readonly warn: (m: string) => void,
  ) {
    this.matcher = compileContainerMatcher({
      containers: spec.containers,
      types: spec.containerTypes,
      host: false,
    });
    for (const n of spec.pidNs ?? []) {
      if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff)
        throw new UsageError(`--pid-ns: not an inode number: ${n}`);
      this.pidNs.add(n);
    }
    for (const p of spec.cgroups ?? []) {
      const id = cgroupIdOf(p);
      if (id === undefined)
        throw new UsageError(`--cgroup ${p}: no such cgroup in the unified (v2) hierarchy`);
      this.cgroupIds.add(id);
    }
    if (spec.host) {
      // The initial pid namespace: kthreadd's (PID 1's links may be unreadable).
      try {
        this.pidNs.add(fs.statSync('/proc/2/ns/pid').ino);
      } catch (err) {
        throw new UsageError(`--host: cannot read the initial pid namespace: ${(err as Error).message}`);
      }
    }
  }

  attach(c: Capture): void {
    this.capture = c;
    for (const n of this.pidNs) c.selectPidNs(n);
    for (const id of this.cgroupIds) c.selectCgroup(id);
  }

  /** A container seen (statedump or started later): selected when it matches. */
  consider(c: ContainerInfo): void {
    this.seen.push(c);
    if (!this.matcher.active || c.ns.pid === 0) return;
    if (!this.matcher.matches({ id: c.id, name: c.name, type: c.type, image: c.image, pidNs: c.ns.pid }))
      return;
    if (this.pidNs.has(c.ns.pid)) return;
    this.pidNs.add(c.ns.pid);
    this.matched.push(c.name || c.id);
    this.capture?.selectPidNs(c.ns.pid);
  }

  /** After the container statedump: say which patterns select nothing yet. */
  reportUnmatched(): void {
    if (!this.matcher.active) return;
    const u = unmatchedSelectors(
      this.matcher,
      this.seen.map((c) => ({ id: c.id, name: c.name, type: c.type, image: c.image, pidNs: c.ns.pid })),
    );
    for (const p of u.patterns)
      this.warn(`--container ${p}: no such container yet (recording its events once it starts)`);
    for (const t of u.types)
      this.warn(`--container-type ${t}: no such container yet (recording their events once they start)`);
  }

  /** Tasks of the selected namespaces at the start: their tids (the other side of switches). */
  seed(threads: readonly ProcThread[]): void {
    for (const t of threads) {
      const ns = t.ns[0] ?? 0;
      if (this.pidNs.has(ns)) this.capture?.selectTid(t.tid);
    }
  }

  noteFork(_childNs: number): void {
    // Children inherit in the kernel (the fork program); nothing to do here.
  }
}
