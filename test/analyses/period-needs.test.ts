/**
 * The period engine's per-class needs (`PeriodEngine.classNeeds`), which let the reader skip the
 * events no period definition can begin or end on and leave undecoded the payloads no
 * expression, capture or begin snapshot reads: for random definitions (nested, with captures)
 * and random events, the periods are the same when the engine sees every event with its payload
 * as when it sees only the classes it says it needs, with payloads only where it says so.
 */
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openTraces, streamRangesOf } from '../../src/analyses/open.js';
import type { AnalysisName } from '../../src/analyses/requirements.js';
import { analyse } from '../../src/analyses/session.js';
import type { EventRecord, FieldValue } from '../../src/ctf/event.js';
import type { Period } from '../../src/analyses/periods/engine.js';
import { PeriodDefs, PeriodEngine } from '../../src/analyses/periods/engine.js';
import { FakeTrace } from '../helpers/records.js';

const NAMES = ['irq_handler_entry', 'irq_handler_exit', 'syscall_exit_read', 'sched_waking'];

/**
 * An expression's text over the event name, fields (some absent from every class) and literals;
 * `$parent` only in a child's (elsewhere lttng-analyses refuses it).
 */
function exprOf(child: boolean): fc.Arbitrary<string> {
  const names = ['$evt.$name', '$begin.$evt.$name', ...(child ? ['$parent.$begin.$evt.$name'] : [])];
  const fields = [
    '$evt.irq',
    '$evt.ret',
    '$evt.tid',
    '$evt.nosuch',
    '$evt.$payload.irq',
    '$begin.$evt.irq',
    '$begin.$evt.tid',
    ...(child ? ['$parent.$begin.$evt.irq'] : []),
  ];
  const name = fc.constantFrom(...names);
  const field = fc.constantFrom(...fields);
  const comp = fc.oneof(
    fc
      .tuple(name, fc.constantFrom('==', '!=', '=*'), fc.constantFrom(...NAMES, 'irq_*', '*exit*', 'none'))
      .map(([l, op, r]) => `${l} ${op} "${r}"`),
    fc
      .tuple(field, fc.constantFrom('==', '!=', '<', '<=', '>', '>='), fc.integer({ min: 0, max: 2 }))
      .map(([l, op, r]) => `${l} ${op} ${r}`),
    fc.tuple(field, fc.constantFrom('==', '!=', '<', '>='), field).map(([l, op, r]) => `${l} ${op} ${r}`),
  );
  return fc.letrec((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comp,
      fc.tuple(tie('e'), fc.constantFrom('&&', '||'), tie('e')).map(([l, op, r]) => `(${l}) ${op} (${r})`),
      tie('e').map((e) => `!(${e})`),
    ),
  })).e as fc.Arbitrary<string>;
}

const captures = fc
  .subarray(['$evt.irq', '$evt.ret', '$begin.$evt.tid', '$evt.$name'], { maxLength: 2 })
  .map((refs) => refs.map((r, i) => `c${i} = ${r}`).join(', '));

const events = fc.array(
  fc.record({
    cls: fc.integer({ min: 0, max: NAMES.length - 1 }),
    irq: fc.integer({ min: 0, max: 2 }),
    ret: fc.integer({ min: 0, max: 2 }),
    tid: fc.integer({ min: 0, max: 2 }),
  }),
  { maxLength: 40 },
);

/**
 * The periods, as they begin and end, with their captures. `last`: the time of the last event
 * of the run, those the engine did not see included (the runner counts skipped events).
 */
function runEngine(
  defs: PeriodDefs,
  records: ReadonlyArray<EventRecord | undefined>,
  last: number,
): string[] {
  const log: string[] = [];
  const cap = (m: ReadonlyMap<string, unknown> | undefined): string =>
    JSON.stringify([...(m ?? new Map<string, unknown>())], (_, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v,
    );
  const engine = new PeriodEngine(
    defs,
    (p: Period) => log.push(`begin ${p.name ?? '-'} ${p.begin} ${cap(p.beginCaptures)}`),
    (p: Period, end: number) =>
      log.push(`end ${p.name ?? '-'} ${p.begin}..${end} ${p.completed} ${cap(p.endCaptures)}`),
  );
  for (const r of records) if (r !== undefined) engine.process(r);
  engine.finish(last);
  return log;
}

describe('the period engine needs only the classes and payloads it says', () => {
  it('gives the same periods from those alone as from every event', () => {
    fc.assert(
      fc.property(
        exprOf(false),
        fc.option(exprOf(false), { nil: undefined }),
        fc.option(fc.tuple(exprOf(true), fc.option(exprOf(true), { nil: undefined })), { nil: undefined }),
        captures,
        captures,
        events,
        (begin, end, child, beginCaps, endCaps, evs) => {
          const args = [`outer:${begin}${end === undefined ? '' : `:${end}`}`];
          if (child !== undefined)
            args.push(`inner(outer):${child[0]}${child[1] === undefined ? '' : `:${child[1]}`}`);
          const caps = endCaps === '' ? `outer:${beginCaps}` : `outer:${beginCaps}:${endCaps}`;
          const defs = PeriodDefs.fromArgs(args, beginCaps === '' && endCaps === '' ? [] : [caps]);
          const t = new FakeTrace({ layouts: { syscall_exit_read: 'ret tid' } });
          const full = evs.map((e, i) => {
            const n = NAMES[e.cls]!;
            const payload: Record<string, FieldValue> =
              n === 'irq_handler_entry'
                ? { irq: e.irq, name: 'eth0' }
                : n === 'irq_handler_exit'
                  ? { irq: e.irq, ret: e.ret }
                  : n === 'syscall_exit_read'
                    ? { ret: e.ret, tid: e.tid }
                    : { tid: e.tid, prio: 20 };
            return t.rec(n, 10 * (i + 1), 0, payload);
          });
          const probe = new PeriodEngine(
            defs,
            () => undefined,
            () => undefined,
          );
          const needs = new Map(NAMES.map((n) => [n, probe.classNeeds(n)]));
          const trimmed = full.map((r) => {
            const n = needs.get(r.eventClass.name)!;
            if (!n.bound) return undefined;
            return n.payload ? r : { ...r, payload: undefined, context: undefined };
          });
          const last = full.at(-1)?.ts ?? 0;
          expect(runEngine(defs, trimmed, last)).toEqual(runEngine(defs, full, last));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('names the classes of a usual definition, and reads payloads only where it must', () => {
    const defs = PeriodDefs.fromArgs([
      'irq:$evt.$name == "irq_handler_entry":$evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq',
    ]);
    const e = new PeriodEngine(
      defs,
      () => undefined,
      () => undefined,
    );
    expect(NAMES.map((n) => [n, e.classNeeds(n)])).toEqual([
      // the begin snapshot reads `irq`; the end compares it
      ['irq_handler_entry', { bound: true, payload: true }],
      ['irq_handler_exit', { bound: true, payload: true }],
      ['syscall_exit_read', { bound: false, payload: false }],
      ['sched_waking', { bound: false, payload: false }],
    ]);
    const byName = new PeriodEngine(
      PeriodDefs.fromArgs(['sw:$evt.$name == "sched_waking":$evt.$name =* "irq_*"']),
      () => undefined,
      () => undefined,
    );
    expect(NAMES.map((n) => byName.classNeeds(n))).toEqual([
      { bound: true, payload: false },
      { bound: true, payload: false },
      { bound: false, payload: false },
      { bound: true, payload: false },
    ]);
    // The name decides from either side of `&&` and `||`.
    const eitherSide = new PeriodEngine(
      PeriodDefs.fromArgs([
        't:$evt.tid >= 0 && $evt.$name == "sched_waking":!($evt.ret == 1 || $evt.$name != "none")',
      ]),
      () => undefined,
      () => undefined,
    );
    expect(NAMES.map((n) => eitherSide.classNeeds(n).bound)).toEqual([false, false, false, true]);
  });
});

describe('the period analyses alone', () => {
  const trace = resolve(__dirname, '../../samples/containers-live/kernel');
  const defs = (): PeriodDefs =>
    PeriodDefs.fromArgs(
      [
        'sw:$evt.$name == "sched_switch":$evt.$name == "sched_switch" && $evt.cpu_id == $begin.$evt.cpu_id',
        'sys(sw):$evt.$name =* "syscall_entry_*" && $evt.cpu_id == $parent.$begin.$evt.cpu_id:$evt.$name =* "syscall_exit_*" && $evt.cpu_id == $begin.$evt.cpu_id',
      ],
      ['sw:tid=$evt.next_tid,$evt.next_comm:prev=$evt.prev_tid'],
    );
  async function run(names: readonly AnalysisName[]): Promise<Awaited<ReturnType<typeof analyse>>> {
    const ts = openTraces([trace]);
    try {
      return await analyse(ts, names, {
        gmt: true,
        streamRanges: () => streamRangesOf(ts),
        family: { periodDefs: defs() },
      });
    } finally {
      ts.close();
    }
  }

  it('run without the model, with the periods of a run that has it', async () => {
    const alone = await run(['period']);
    const withModel = await run(['period', 'sched']);
    // The model saw nothing alone (the shortcut was taken), everything with the scheduling analyses.
    expect(alone.model.allThreads.length).toBe(0);
    expect(withModel.model.allThreads.length).toBeGreaterThan(50);
    expect(alone.period!.all.length).toBeGreaterThan(100);
    const periods = (r: typeof alone): unknown =>
      JSON.parse(
        JSON.stringify(
          r.period!.all.map((p) => ({ ...p, parent: p.parent?.startTs, children: p.children.length })),
          (_, v: unknown) =>
            typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v,
        ),
      );
    expect(periods(alone)).toEqual(periods(withModel));
    expect(alone.summary).toEqual(withModel.summary);
  });
});
