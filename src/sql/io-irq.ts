/**
 * The `io` and `irq` tables: the requests and interrupts the I/O and interrupt analyses counted
 * in the pass (src/analyses/io.ts, src/analyses/irq.ts; one period, no selection), so that their
 * sums are those analyses' numbers.
 *
 * An I/O request's file is the fd lifetime the analysis charged it to (the per-file table's
 * entry, whose request list holds it): its name and type as they are at the end (the type of a
 * lifetime does not change); a request no lifetime holds has NULL there.
 */
import type { FdStats } from '../analyses/io.js';
import { devName } from '../analyses/io.js';
import type { IrqStats } from '../analyses/irq.js';
import type { IoRequest } from '../model/lttng-io.js';
import { IoOp } from '../model/lttng-io.js';
import { FdType } from '../model/lttng-procs.js';
import type { Irq } from '../model/irqs.js';
import type { BuiltTable, Cell, Ctx } from './rows.js';
import { dictColumn, orNull, table } from './rows.js';

const OPS: Record<IoOp, string> = {
  [IoOp.Open]: 'open',
  [IoOp.Read]: 'read',
  [IoOp.Write]: 'write',
  [IoOp.Close]: 'close',
  [IoOp.Sync]: 'sync',
  [IoOp.ReadWrite]: 'readwrite',
};

const FD_TYPES: Record<FdType, string> = {
  [FdType.Unknown]: 'unknown',
  [FdType.Disk]: 'disk',
  [FdType.Net]: 'net',
  [FdType.MaybeNet]: 'net',
};

interface IoRow {
  readonly rq: IoRequest;
  readonly fd: FdStats | undefined;
  readonly disk: string | null;
}

export function ioTable(ctx: Ctx): BuiltTable {
  const r = ctx.result.io?.[0]?.result;
  const rows: IoRow[] = [];
  if (r !== undefined) {
    const fdOf = new Map<IoRequest, FdStats>();
    for (const p of r.tids.values())
      for (const l of p.fds.values()) for (const f of l) for (const rq of f.rqs) fdOf.set(rq, f);
    for (const p of r.tids.values())
      for (const rq of p.rqs) if (rq.kind !== 'block') rows.push({ rq, fd: fdOf.get(rq), disk: null });
    for (const d of r.disks.values())
      for (const rq of d.rqs) rows.push({ rq, fd: undefined, disk: d.diskname });
  }
  const col = (f: (x: IoRow) => Cell): Cell[] => rows.map(f);
  const block = (x: IoRow): boolean => x.rq.kind === 'block';
  const counted = (x: IoRow): boolean =>
    x.rq.errno === undefined && (x.rq.operation === IoOp.Read || x.rq.operation === IoOp.Write);
  return table(ctx, 'io', {
    kind: dictColumn(rows.map((x) => (block(x) ? 'block' : 'syscall'))),
    ts: col((x) => x.rq.beginTs),
    dur: col((x) => x.rq.duration!),
    op: dictColumn(rows.map((x) => OPS[x.rq.operation])),
    syscall: dictColumn(rows.map((x) => (block(x) ? null : x.rq.syscallName))),
    fd: col((x) => orNull(x.rq.fd)),
    path: col((x) => x.fd?.filename ?? null),
    fd_type: dictColumn(rows.map((x) => (x.fd !== undefined && counted(x) ? FD_TYPES[x.fd.fdType] : null))),
    size: col((x) => (block(x) ? x.rq.size! : x.rq.errno === undefined ? orNull(x.rq.returnedSize) : null)),
    errno: col((x) => orNull(x.rq.errno)),
    utid: col((x) => (x.rq.thread === undefined ? null : x.rq.thread.uid)),
    disk: dictColumn(rows.map((x) => (x.disk === null ? null : x.disk || devName(x.rq.dev)))),
    sector: col((x) => (block(x) ? x.rq.sector : null)),
    nr_sector: col((x) => (block(x) ? x.rq.nrSector : null)),
  });
}

export function irqTable(ctx: Ctx): BuiltTable {
  const r = ctx.result.irq?.[0]?.result;
  const irqs: readonly Irq[] = r?.irqs ?? [];
  const nameOf = (irq: Irq): string | null => {
    const s: IrqStats | undefined = (irq.hard ? r?.hard : r?.soft)?.get(irq.id);
    return s === undefined ? null : s.names.join(', ');
  };
  const col = (f: (x: Irq) => Cell): Cell[] => irqs.map(f);
  return table(ctx, 'irq', {
    cpu: col((x) => x.cpuId),
    ts: col((x) => x.beginTs!),
    dur: col((x) => x.duration!),
    kind: dictColumn(irqs.map((x) => (x.hard ? 'hard' : 'soft'))),
    irq: col((x) => x.id),
    name: dictColumn(irqs.map(nameOf)),
    raise_ts: col((x) => orNull(x.raiseTs)),
    utid: col((x) => (x.thread === undefined ? null : x.thread.uid)),
    idle: col((x) => x.idle),
  });
}
