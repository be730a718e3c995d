import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../src/ctf/event.js';
import {
  addFilterOptions,
  buildRecordFilter,
  filterRecords,
  type FilterOptionValues,
  type RecordStream,
} from '../../src/filter/options.js';
import type { ContainerLookup } from '../../src/filter/containers.js';
import { FilterSyntaxError, UsageError } from '../../src/util/errors.js';
import * as C from './classes.js';

const switchEc = C.eventClass('sched_switch', { _prev_tid: C.s32, _next_comm: C.array(C.char, 16) });
const readEc = C.eventClass('syscall_entry_read', { _fd: C.u32, _count: C.u64 });
const sc = C.streamClass([switchEc, readEc], { _vtid: C.s32, _pid_ns: C.u32 }, { cpu_id: C.u32 });
const traces = C.traceSet([sc]);
const s0 = C.streamInstance(sc);
const s1 = C.streamInstance(sc);

const recs = [
  C.record(switchEc, s0, [10, 'bash'], [10, 4026531836], [0]),
  C.record(switchEc, s1, [20, 'nginx'], [20, 4026532252], [1]),
  C.record(readEc, s0, [3, 100], [10, 4026531836], [0]),
  C.record(readEc, s1, [0, 4096], [30, 4026532252], [1]),
];

function run(opts: FilterOptionValues, lookup?: ContainerLookup): number[] {
  const f = buildRecordFilter(opts, traces, { containers: lookup });
  if (f === undefined) return [-1];
  return recs.map((r, i) => (f(r) ? i : -1)).filter((i) => i >= 0);
}

describe('buildRecordFilter', () => {
  it('returns undefined when nothing filters', () => {
    expect(buildRecordFilter({}, traces)).toBeUndefined();
  });

  it('combines the expression with name selection, per class and stream', () => {
    expect(run({ filter: '$ctx.pid_ns == 4026532252' })).toEqual([1, 3]);
    // LTTng: a field the class lacks makes the whole expression false, even in a || branch.
    expect(run({ filter: 'prev_tid > 15 || fd == 3' })).toEqual([]);
    expect(run({ filter: 'prev_tid > 15' })).toEqual([1]);
    expect(run({ filter: 'next_comm == "ng*"' })).toEqual([1]);
    expect(run({ filter: '$ctx.cpu_id == 1' })).toEqual([1, 3]);
    expect(run({ event: ['sched_*'] })).toEqual([0, 1]);
    expect(run({ event: ['*'], exclude: ['sched_*'], filter: 'count >= 4096' })).toEqual([3]);
    // Records of the same class seen again use the cached predicate.
    const f = buildRecordFilter({ filter: '$ctx.vtid == 10' }, traces)!;
    expect([...recs, ...recs].map((r) => f(r))).toEqual([true, false, true, false, true, false, true, false]);
  });

  it('refuses a context the trace does not record, saying which it has', () => {
    let err: unknown;
    try {
      buildRecordFilter({ filter: 'prev_tid == 1 && $ctx.procname == "x"' }, traces);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FilterSyntaxError);
    const e = err as FilterSyntaxError;
    expect(e.column).toBe(18);
    expect(e.message).toContain(
      'unknown context $ctx.procname: this trace has $ctx.cpu_id, $ctx.pid_ns, $ctx.vtid',
    );
    expect(e.exitCode).toBe(2);
  });

  it('warns about a payload field no event has', () => {
    const warnings: string[] = [];
    const f = buildRecordFilter({ filter: 'prev_tdi > 1' }, traces, { onWarning: (m) => warnings.push(m) })!;
    expect(recs.some((r) => f(r))).toBe(false);
    expect(warnings).toEqual([
      "filter: no event of this trace has a field 'prev_tdi': the expression is false for every event",
    ]);
  });

  it('needs the container model for container selection', () => {
    expect(() => buildRecordFilter({ host: true }, traces)).toThrow(UsageError);
    expect(() => buildRecordFilter({ filter: '$container.name == "x"' }, traces)).toThrow(FilterSyntaxError);
    const lookup: ContainerLookup = {
      at: (r) =>
        r.streamContext![1] === 4026532252
          ? { id: 'abc', name: 'web', type: 'docker', pidNs: 4026532252 }
          : undefined,
    };
    expect(run({ container: ['web'] }, lookup)).toEqual([1, 3]);
    expect(run({ host: true }, lookup)).toEqual([0, 2]);
    expect(run({ containerType: ['docker'], event: ['sched_*'] }, lookup)).toEqual([1]);
    expect(run({ filter: '$container.name == "w*" && $container.pid_ns == $ctx.pid_ns' }, lookup)).toEqual([
      1, 3,
    ]);
    expect(run({ filter: '!($container.name == "w*")' }, lookup)).toEqual([]);
  });
});

describe('addFilterOptions', () => {
  it('parses the options the same way for every command', () => {
    const cmd = addFilterOptions(new Command('x').exitOverride());
    cmd.parse(
      [
        '--filter',
        'a == 1',
        '-e',
        'sched_*',
        '--event',
        'irq_*',
        '--exclude',
        'x',
        '--container',
        'web',
        '--container-type',
        'docker',
        '--host',
      ],
      { from: 'user' },
    );
    expect(cmd.opts()).toEqual({
      filter: 'a == 1',
      event: ['sched_*', 'irq_*'],
      exclude: ['x'],
      container: ['web'],
      containerType: ['docker'],
      host: true,
    });
  });
});

describe('addFilterOptions on a command that already has -e', () => {
  it('keeps the command’s -e and offers --event', () => {
    const cmd = new Command('print').exitOverride().option('-e, --end <time>', 'end');
    addFilterOptions(cmd);
    cmd.parse(['-e', '12:00', '--event', 'sched_*'], { from: 'user' });
    expect(cmd.opts()).toEqual({ end: '12:00', event: ['sched_*'] });
  });
});

describe('filterRecords', () => {
  it('drops rejected events, keeps lost-event records, and is free without a filter', () => {
    const lost = { kind: 'discarded-events' } as unknown as TraceRecord;
    const items: TraceRecord[] = [recs[0]!, lost, recs[1]!, recs[2]!];
    const src = (): RecordStream => {
      let i = 0;
      return { base: { seconds: 0, ns: 0 }, next: () => items[i++] ?? null };
    };
    const keep = buildRecordFilter({ event: ['sched_*'], filter: 'prev_tid > 15' }, traces);
    const out: TraceRecord[] = [];
    const s = filterRecords(src(), keep);
    for (let r = s.next(); r !== null; r = s.next()) out.push(r);
    expect(out).toEqual([lost, recs[1]]);
    const plain = src();
    expect(filterRecords(plain, undefined)).toBe(plain);
  });
});
