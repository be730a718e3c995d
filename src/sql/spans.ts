/**
 * The `span` table: the rows of `nstrace spans --begin B --end E [--match F]` on the machine, from
 * the same pass that command makes (src/analyses/spans-run.ts: its own model over every event of
 * the machine's traces, kernel and userspace, without the stream intersection of the other
 * tables), so that its numbers are that command's.
 *
 * A span's thread is given as the `utid` of this machine's thread table: the lifetime of its tid
 * that had begun at the span's begin (the last one forked before it, or the one alive before the
 * trace); NULL when the thread table has none.
 */
import { streamRangesOf } from '../analyses/open.js';
import { analyseSpans } from '../analyses/spans-run.js';
import type { SpanOwner, SpanRow } from '../analyses/spans-run.js';
import type { Thread } from '../model/threads.js';
import { baseNs, dictColumn, table } from './rows.js';
import type { BuiltTable, Cell, Ctx } from './rows.js';

export async function spanTable(ctx: Ctx): Promise<BuiltTable> {
  const o = ctx.opts.spans;
  let rows: SpanRow[] = [];
  let shift = 0;
  if (o === undefined) {
    ctx.warnings.push('span: no row without the begin and end events (--span-begin, --span-end)');
  } else {
    const ts = ctx.input.open();
    try {
      const run = await analyseSpans(ts, {
        // (An option: `streamRangesOf` falls back on the set's own `streamRanges`.)
        streamRanges: () => streamRangesOf(ts),
        begin: o.begin,
        end: o.end,
        match: o.match,
        timerange:
          ctx.opts.begin !== undefined && ctx.opts.end !== undefined
            ? `[${ctx.opts.begin},${ctx.opts.end}]`
            : undefined,
        gmt: ctx.opts.gmt,
        signal: ctx.opts.signal,
      });
      if (run.result === undefined)
        ctx.warnings.push(`span: the traces have no ${o.begin} and ${o.end} events`);
      for (const w of run.warnings) ctx.warnings.push(w);
      rows = run.rows;
      shift = Number(baseNs(run.base) - ctx.base);
    } finally {
      ts.close();
    }
  }
  const lifetimes = new Map<number, Thread[]>();
  for (const t of ctx.model.allThreads) {
    const l = lifetimes.get(t.tid);
    if (l === undefined) lifetimes.set(t.tid, [t]);
    else l.push(t);
  }
  const utidOf = (r: SpanRow): Cell => {
    const t = r.span.thread;
    if (t === undefined || t.tid === 0) return null;
    const at = r.span.begin + shift;
    let found: Thread | undefined;
    for (const l of lifetimes.get(t.tid) ?? []) if (l.born === undefined || l.born <= at) found = l;
    return found === undefined ? null : found.uid;
  };
  const keys = new Map(ctx.model.containers.all().map((c) => [c.id, c.key]));
  const known = (owner: SpanOwner): boolean => owner.id !== '?';
  const col = (f: (r: SpanRow) => Cell): Cell[] => rows.map(f);
  const cov = (f: (r: SpanRow) => Cell): Cell[] => rows.map((r) => (r.span.covered ? f(r) : null));
  return table(ctx, 'span', {
    ts: col((r) => r.span.begin + shift),
    dur: col((r) => r.span.end! - r.span.begin),
    utid: col(utidOf),
    tid: col((r) => (r.span.thread === undefined || r.span.thread.tid === 0 ? null : r.span.thread.tid)),
    pid_ns: col((r) => r.span.pidNs ?? null),
    vtid: col((r) => r.span.vtid ?? null),
    key: col((r) => r.span.key ?? null),
    container_key: col((r) => (known(r.owner) ? (keys.get(r.owner.id) ?? null) : null)),
    container: dictColumn(rows.map((r) => (known(r.owner) ? r.owner.name : null))),
    covered: col((r) => r.span.covered),
    on_cpu: cov((r) => r.span.onCpu),
    waiting: cov((r) => r.span.waiting),
    idle_wait: cov((r) => r.idleWait),
    blocked: cov((r) => r.span.blocked),
    unknown: col((r) => (r.span.covered ? r.span.unknown : r.span.end! - r.span.begin)),
    preempted_by: dictColumn(
      rows.map((r) => (r.span.covered ? (r.preemptors[0]?.owner.name ?? null) : null)),
    ),
    preempted_ns: cov((r) => r.preemptors[0]?.ns ?? null),
    blocked_in: dictColumn(rows.map((r) => (r.span.covered ? (r.blockedIn[0]?.syscall ?? null) : null))),
  });
}
