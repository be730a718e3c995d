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
  /**
   * When present, a number that changes whenever a `ContainerInfo` returned earlier may have
   * changed (a container named or merged later): predicates then cache their verdict per
   * returned object until it changes. Without it, nothing is cached.
   */
  readonly version?: number;
  /**
   * `$ctx.host_tid`: the host tid of the task that produced `rec` (for a userspace event, the
   * host thread its `pid_ns`/`vtid` contexts designate at its time), undefined when unknown.
   */
  hostTid?(rec: EventRecord): number | undefined;
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

/** A container selection checked once: its patterns, and a predicate over containers. */
export interface ContainerMatcher {
  /** Whether the selection restricts anything (false: every container and the host match). */
  readonly active: boolean;
  /** `--container` patterns as given (split at commas), and normalized for matching. */
  readonly patterns: readonly { readonly text: string; readonly glob: string }[];
  /** `--container-type` patterns as given, and normalized (lower case) for matching. */
  readonly types: readonly { readonly text: string; readonly glob: string }[];
  readonly host: boolean;
  /** Whether a container (undefined: the host) is selected. */
  matches(c: ContainerInfo | undefined): boolean;
}

/**
 * Checks and compiles a selection: the host passes with `--host`; a container passes when it
 * matches one `--container` pattern (if any) and one `--container-type` (if any), and at least
 * one of the two was given. An empty selection selects everything. Throws `UsageError` for an
 * empty pattern.
 */
export function compileContainerMatcher(sel: ContainerSelection): ContainerMatcher {
  const patterns = (sel.containers ?? [])
    .flatMap(splitNameList)
    .map((text) => ({ text, glob: checkPattern('--container')(text) }));
  const types = (sel.types ?? [])
    .flatMap(splitNameList)
    .map((text) => ({ text, glob: checkPattern('--container-type')(text).toLowerCase() }));
  if ((sel.containers?.length ?? 0) > 0 && patterns.length === 0)
    throw new UsageError('--container: empty name');
  if ((sel.types?.length ?? 0) > 0 && types.length === 0)
    throw new UsageError('--container-type: empty name');
  const host = sel.host === true;
  const anyContainer = patterns.length > 0 || types.length > 0;
  const active = anyContainer || host;
  const pGlobs = patterns.map((p) => p.glob);
  const tGlobs = types.map((t) => t.glob);
  return {
    active,
    patterns,
    types,
    host,
    matches: (c) => {
      if (!active) return true;
      if (c === undefined) return host;
      if (!anyContainer) return false;
      if (pGlobs.length > 0 && !pGlobs.some((p) => containerMatches(p, c))) return false;
      if (tGlobs.length > 0) {
        const t = c.type.toLowerCase();
        if (!tGlobs.some((p) => starGlobMatch(p, t))) return false;
      }
      return true;
    },
  };
}

/**
 * Compiles the selection into a predicate over the container of each event (see
 * `compileContainerMatcher`), looked up through `lookup`. Verdicts are cached per container
 * object while `lookup.version` stays the same.
 */
export function compileContainerSelector(
  sel: ContainerSelection,
  lookup: ContainerLookup,
): (rec: EventRecord) => boolean {
  const m = compileContainerMatcher(sel);
  const matches = m.matches;
  if (!('version' in lookup)) {
    return (rec) => matches(lookup.at(rec));
  }
  let version = lookup.version;
  let cache = new Map<ContainerInfo, boolean>();
  const host = m.host;
  return (rec) => {
    const c = lookup.at(rec);
    if (c === undefined) return host;
    if (lookup.version !== version) {
      version = lookup.version;
      cache = new Map();
    }
    let r = cache.get(c);
    if (r === undefined) {
      r = matches(c);
      cache.set(c, r);
    }
    return r;
  };
}

/**
 * The `--container` patterns and `--container-type` globs of `m` that select none of
 * `containers` (as given by the user), to tell a typo from an absent container.
 */
export function unmatchedSelectors(
  m: ContainerMatcher,
  containers: Iterable<ContainerInfo>,
): { patterns: string[]; types: string[] } {
  const list = [...containers];
  return {
    patterns: m.patterns.filter((p) => !list.some((c) => containerMatches(p.glob, c))).map((p) => p.text),
    types: m.types
      .filter((t) => !list.some((c) => starGlobMatch(t.glob, c.type.toLowerCase())))
      .map((t) => t.text),
  };
}

function checkPattern(option: string): (p: string) => string {
  return (p) => {
    if (p === '') throw new UsageError(`${option}: empty name`);
    return normalizeStarGlob(p);
  };
}
