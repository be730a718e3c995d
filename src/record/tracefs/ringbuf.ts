/**
 * Reader of ftrace ring-buffer pages, as `per_cpu/cpuN/trace_pipe_raw` returns them: one
 * sub-buffer per read, a page header (`header_page`: u64 timestamp, local_t commit) then
 * compressed event headers (`header_event`: 5-bit type_len, 27-bit time delta).
 *
 * Time is carried as a JS number of nanoseconds relative to a base (`baseHi`/`baseLo`, the two
 * u32 halves of an absolute clock value), so hot loops never touch BigInt.
 */
import type { EventHeaderLayout, PageHeaderLayout } from '../format.js';
import { TraceFormatError } from '../../util/errors.js';

/** Bit 31 of commit: events were lost before this page. */
export const RB_MISSED_EVENTS = 0x80000000;
/** Bit 30 of commit: the lost count is stored (unsigned long) right after the data. */
export const RB_MISSED_STORED = 0x40000000;
const COMMIT_SIZE_MASK = 0x3fffffff;

const TWO32 = 4294967296;
const TWO27 = 134217728;

/** Splits a bigint clock value into the (hi, lo) pair the cursor uses as its base. */
export function splitBase(base: bigint): { hi: number; lo: number } {
  return { hi: Number(base >> 32n), lo: Number(base & 0xffffffffn) };
}

/**
 * Iterates the data events of one page. Reuse one cursor per CPU: `reset()` on a page, then
 * `while (c.next()) { ... c.ts, c.dataOffset, c.dataLength ... }`. No allocation per event.
 */
export class PageCursor {
  /** Timestamp of the current event, ns relative to the base. */
  ts = 0;
  /** Byte offset of the current event's record (its `common_type`) in `bytes`. */
  dataOffset = 0;
  /** Length of the record in bytes (rounded up to 4 by the ring buffer). */
  dataLength = 0;
  /** Events lost right before this page: -1 unknown count, 0 none, N > 0 exactly N. */
  missed = 0;
  /** Page timestamp (relative), i.e. the time base of the first event. */
  pageTs = 0;

  private view: DataView;
  private off = 0;
  private end = 0;
  private readonly dataStart: number;
  private readonly tsOff: number;
  private readonly commitOff: number;
  private readonly pad: number;
  private readonly ext: number;
  private readonly abs: number;
  private readonly maxData: number;

  constructor(
    page: PageHeaderLayout,
    header: EventHeaderLayout,
    private readonly baseHi: number,
    private readonly baseLo: number,
    private readonly file = 'trace_pipe_raw',
  ) {
    this.view = new DataView(new ArrayBuffer(0));
    this.dataStart = page.dataOffset;
    this.tsOff = page.timestampOffset;
    this.commitOff = page.commitOffset;
    this.pad = header.padding;
    this.ext = header.timeExtend;
    this.abs = header.timeStamp;
    this.maxData = header.dataMaxTypeLen;
  }

  /** Positions the cursor on a page that starts at `pageOffset` in `view`, `pageLength` bytes. */
  reset(view: DataView, pageOffset: number, pageLength: number): void {
    this.view = view;
    const hi = view.getUint32(pageOffset + this.tsOff + 4, true);
    const lo = view.getUint32(pageOffset + this.tsOff, true);
    this.pageTs = (hi - this.baseHi) * TWO32 + (lo - this.baseLo);
    this.ts = this.pageTs;
    const commit = view.getUint32(pageOffset + this.commitOff, true);
    const size = commit & COMMIT_SIZE_MASK;
    const start = pageOffset + this.dataStart;
    if (start + size > pageOffset + pageLength) {
      throw new TraceFormatError(
        this.file,
        pageOffset,
        `page commit ${size} exceeds the page (${pageLength} bytes)`,
      );
    }
    this.off = start;
    this.end = start + size;
    if ((commit & RB_MISSED_EVENTS) !== 0) {
      if ((commit & RB_MISSED_STORED) !== 0 && this.end + 8 <= pageOffset + pageLength) {
        const mlo = view.getUint32(this.end, true);
        const mhi = view.getUint32(this.end + 4, true);
        this.missed = mhi * TWO32 + mlo;
      } else {
        this.missed = -1;
      }
    } else {
      this.missed = 0;
    }
  }

  /** Advances to the next data event; false at the end of the page. */
  next(): boolean {
    const view = this.view;
    const end = this.end;
    let off = this.off;
    while (off + 4 <= end) {
      const hdr = view.getUint32(off, true);
      const typeLen = hdr & 31;
      const delta = hdr >>> 5;
      if (typeLen === 0) {
        const len = view.getUint32(off + 4, true) - 4;
        const aligned = (len + 3) & ~3;
        this.ts += delta;
        this.dataOffset = off + 8;
        this.dataLength = aligned;
        this.off = off + 8 + aligned;
        if (this.off > end)
          throw new TraceFormatError(this.file, off, `event length ${len} overruns the page`);
        return true;
      }
      if (typeLen <= this.maxData) {
        this.ts += delta;
        this.dataOffset = off + 4;
        this.dataLength = typeLen * 4;
        this.off = off + 4 + typeLen * 4;
        if (this.off > end)
          throw new TraceFormatError(this.file, off, `event length ${typeLen * 4} overruns the page`);
        return true;
      }
      if (typeLen === this.pad) {
        // time_delta 0: the rest of the page is padding. Otherwise a discarded event.
        if (delta === 0) break;
        this.ts += delta;
        off += 4 + view.getUint32(off + 4, true);
        continue;
      }
      if (typeLen === this.ext) {
        this.ts += view.getUint32(off + 4, true) * TWO27 + delta;
        off += 8;
        continue;
      }
      if (typeLen === this.abs) {
        // Absolute timestamp: 59 bits = array[0] << 27 | time_delta.
        const a0 = view.getUint32(off + 4, true);
        const hi = Math.floor(a0 / 32);
        const lo = ((a0 % 32) * TWO27 + delta) >>> 0;
        this.ts = (hi - this.baseHi) * TWO32 + (lo - this.baseLo);
        off += 8;
        continue;
      }
      throw new TraceFormatError(this.file, off, `unknown event type_len ${typeLen}`);
    }
    this.off = end;
    return false;
  }
}
