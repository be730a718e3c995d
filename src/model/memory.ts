/**
 * The memory tracker: pages allocated minus freed, and the thread to charge for each page event
 * (the CPU's current thread, as lttng-analyses' memtop does).
 */
import type { CpuState } from './cpus.js';
import type { EventOutputs } from './current.js';
import type { ClassInfo, EventFn } from './dispatch.js';
import { anyField, readNum } from './fields.js';

export class MemoryTracker {
  /** Pages allocated minus freed since the start (lttng-analyses ignores frees when it is 0). */
  pageCount = 0;

  constructor(
    private readonly cpus: CpuState[],
    private readonly out: EventOutputs,
  ) {}

  /** `mm_page_alloc` / `kmem_mm_page_alloc`. */
  bindAlloc(info: ClassInfo): EventFn {
    const out = this.out;
    const cpuF = anyField(info.streamClass, info.eventClass, 'cpu_id');
    return (ev) => {
      this.pageCount++;
      const cpuId = readNum(cpuF, ev);
      out.cpuId = cpuId;
      const c = this.cpus[cpuId];
      out.memThread = c !== undefined && c.known ? c.current : undefined;
    };
  }

  /** `mm_page_free` / `kmem_mm_page_free`. */
  bindFree(info: ClassInfo): EventFn {
    const out = this.out;
    const cpuF = anyField(info.streamClass, info.eventClass, 'cpu_id');
    return (ev) => {
      if (this.pageCount === 0) {
        out.memThread = undefined;
        return;
      }
      this.pageCount--;
      const cpuId = readNum(cpuF, ev);
      out.cpuId = cpuId;
      const c = this.cpus[cpuId];
      out.memThread = c !== undefined && c.known ? c.current : undefined;
    };
  }
}
