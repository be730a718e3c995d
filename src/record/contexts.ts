/**
 * The stream event context fields the recorder can write on every event (both backends):
 * their LTTng names and CTF type codes, and the default set.
 */

/** Context fields the recorder can add to every event, with their CTF type codes. */
export const CONTEXT_FIELDS = {
  pid_ns: 'u32',
  user_ns: 'u32',
  net_ns: 'u32',
  mnt_ns: 'u32',
  uts_ns: 'u32',
  ipc_ns: 'u32',
  cgroup_ns: 'u32',
  time_ns: 'u32',
  vpid: 'i32',
  vtid: 'i32',
  tid: 'i32',
  pid: 'i32',
  procname: 'c16',
  ppid: 'i32',
  vppid: 'i32',
} as const;
export type ContextName = keyof typeof CONTEXT_FIELDS;
export const DEFAULT_CONTEXTS: readonly ContextName[] = [
  'pid_ns',
  'user_ns',
  'net_ns',
  'mnt_ns',
  'uts_ns',
  'ipc_ns',
  'cgroup_ns',
  'time_ns',
  'vpid',
  'vtid',
  'tid',
  'pid',
  'procname',
];

export interface ContextSlot {
  name: ContextName;
  /** Word index in the thread's context words. */
  word: number;
}
