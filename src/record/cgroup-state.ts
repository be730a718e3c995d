/**
 * The container watcher's side of `cgroup_mkdir` / `cgroup_rmdir` (both backends): the
 * cgroup's path, read from the raw ftrace record, goes to the watcher.
 */
import type { ContainerWatcher } from '../containers/index.js';
import { findField, type FtraceEventFormat } from './format.js';

/** The handler of a cgroup_mkdir (`mkdir`) or cgroup_rmdir record; undefined without `path`. */
export function cgroupPathHandler(
  fmt: FtraceEventFormat,
  mkdir: boolean,
  host: { containerWatcher: ContainerWatcher | undefined },
): ((v: DataView, u: Uint8Array, s: number) => void) | undefined {
  const f = findField(fmt, 'path');
  if (!f || !f.dataLoc) return undefined;
  return (v, u, s) => {
    const cw = host.containerWatcher;
    if (!cw) return;
    const loc = v.getUint32(s + f.offset, true);
    const start = s + (loc & 0xffff);
    let end = start + (loc >>> 16);
    while (end > start && u[end - 1] === 0) end--;
    const p = Buffer.from(u.buffer, u.byteOffset + start, end - start).toString('utf8');
    if (mkdir) cw.noteCgroupMkdir(p);
    else cw.noteCgroupRmdir(p);
  };
}
