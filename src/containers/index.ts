/**
 * `containers/`: discovery of containers on a live host — every runtime's cgroup rules, the
 * runtimes' own APIs, `/proc/<pid>/ns` — and a watcher that follows them during a recording.
 *
 * Recorder use:
 * ```ts
 * const w = await watchContainers(onStart, onStop, { onWarning });
 * for (const c of w.initial) writeStatedump(toContainerEventPayload(c));
 * // feed kernel events: w.noteFork(ppid, pid, pidNs), w.noteExit(pid),
 * //                     w.noteCgroupMkdir(path), w.noteCgroupRmdir(path)
 * await w.close();
 * ```
 */
export { NS_TYPES, emptyNamespaces, identityKey, toContainerEventPayload } from './types.js';
export type {
  ContainerEventPayload,
  ContainerInfo,
  ContainerType,
  DiscoverySource,
  Namespaces,
  NsType,
} from './types.js';
export { discover, discoverContainers, containerOfPid } from './discover.js';
export type { DiscoverOptions, Discovery } from './discover.js';
export { ContainerWatcher, watchContainers } from './watch.js';
export type { ChangeReason, WatchHandlers, WatchOptions } from './watch.js';
export {
  classifyPath,
  matchCgroupLines,
  matchCgroupPath,
  parseProcCgroup,
  representativeCgroupPath,
} from './cgroup-rules.js';
export type { CgroupLine, CgroupMatch } from './cgroup-rules.js';
export { formatContainersTable, containerToJson } from './format.js';
export type { ContainerRow, TableOptions } from './format.js';
