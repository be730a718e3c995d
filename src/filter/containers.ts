/**
 * Container selection, which LTTng never had: `--container NAME|ID|PID_NS` (globs, repeatable),
 * `--container-type TYPE`, `--host`, and the `$container.*` fields of expressions. They are
 * resolved through a `ContainerLookup`, which the model (src/model/) implements: it answers
 * which container a task belonged to at the time of an event, so that a container restarted
 * under a new pid namespace is still matched by its name.
 */
import type { EventRecord } from '../ctf/event.js';
import { UsageError } from '../util/errors.js';
import { splitNameList } from './names.js';
import { normalizeStarGlob, starGlobMatch } from './strings.js';

export interface ContainerInfo {
  /** Runtime id (full docker/podman id, LXC name, machine name, ...). */
  readonly id: string;
  readonly name: string;
  /** `docker`, `podman`, `lxc`, `lxd`, `nspawn`, `k8s`, `containerd`, `crio`, `unshare`, ... */
  readonly type: string;
  readonly image?: string | undefined;
  /** Inode of the container's pid namespace at the time of the event. */
  readonly pidNs?: number | bigint | undefined;
}

export interface ContainerLookup {
  /**
   * The container the task that produced `rec` belonged to at the event's time, or undefined
   * when it ran on the host (or is unknown). Called once per event by a predicate that needs it;
   * `rec` is only valid during the call.
   */
  at(rec: EventRecord): ContainerInfo | undefined;
}

export interface ContainerSelection {
  /** `--container` values: globs over the name, the id (or an id prefix) or the pid_ns inode. */
  readonly containers?: readonly string[] | undefined;
  /** `--container-type` values (comma lists allowed), case-insensitive globs. */
  readonly types?: readonly string[] | undefined;
  /** `--host`: also (or only) events of the host. */
  readonly host?: boolean | undefined;
}

/** True when `sel` restricts anything. */
export function hasContainerSelection(sel: ContainerSelection): boolean {
  return (sel.containers?.length ?? 0) > 0 || (sel.types?.length ?? 0) > 0 || sel.host === true;
}

/** Does the `--container` pattern `pattern` (normalized glob) designate container `c`? */
export function containerMatches(pattern: string, c: ContainerInfo): boolean {
  if (starGlobMatch(pattern, c.name) || starGlobMatch(pattern, c.id)) return true;
  // A short id, as `docker ps` shows it (at least 4 characters, no glob).
  if (pattern.length >= 4 && !pattern.includes('*') && c.id.startsWith(pattern)) return true;
  return c.pidNs !== undefined && starGlobMatch(pattern, String(c.pidNs));
}

/**
 * Compiles the selection into a predicate over the container of each event: host events pass
 * with `--host`; container events pass when they match one `--container` pattern (if any) and
 * one `--container-type` (if any), and at least one of the two was given.
 */
export function compileContainerSelector(
  sel: ContainerSelection,
  lookup: ContainerLookup,
): (rec: EventRecord) => boolean {
  const patterns = (sel.containers ?? []).flatMap(splitNameList).map(checkPattern('--container'));
  const types = (sel.types ?? [])
    .flatMap(splitNameList)
    .map(checkPattern('--container-type'))
    .map((t) => t.toLowerCase());
  const host = sel.host === true;
  const anyContainer = patterns.length > 0 || types.length > 0;
  return (rec) => {
    const c = lookup.at(rec);
    if (c === undefined) return host;
    if (!anyContainer) return false;
    if (patterns.length > 0 && !patterns.some((p) => containerMatches(p, c))) return false;
    if (types.length > 0) {
      const t = c.type.toLowerCase();
      if (!types.some((p) => starGlobMatch(p, t))) return false;
    }
    return true;
  };
}

function checkPattern(option: string): (p: string) => string {
  return (p) => {
    if (p === '') throw new UsageError(`${option}: empty name`);
    return normalizeStarGlob(p);
  };
}
