/**
 * Differential tests against lttng-analyses 0.6.1 (Debian python3-lttnganalyses), run live on
 * small traces and compared with its stored outputs on the big ones: the per-TID, per-CPU,
 * total, memory and syscall tables must be byte for byte what it prints (our per-container
 * tables come after them), and the LAMI documents equal once our per-container tables are left
 * out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { pyJson, resultsJson } from '../../src/analyses/format/lami.js';
import { openTraces, streamRangesOf } from '../../src/analyses/open.js';
import type { ReportOptions } from '../../src/analyses/reports.js';
import {
  cputopMi,
  cputopText,
  memtopMi,
  memtopText,
  syscallstatsMi,
  syscallstatsText,
} from '../../src/analyses/reports.js';
import { analyse } from '../../src/analyses/session.js';
import type { AnalyseOptions } from '../../src/analyses/session.js';

type AnalysisName = 'cputop' | 'memtop' | 'syscallstats';

const FIX = resolve(__dirname, '../fixtures');
const SHARED = '/work/shared/traces';
const REF = `${SHARED}/_reference/lttng-analyses-0.6.1`;

const SYNTH_CPUTOP = `${FIX}/lttng-analyses-synthetic/cputop/kernel`;
const SYNTH_INTERSECT = `${FIX}/lttng-analyses-synthetic/intersect/kernel`;
const FLIPPING = `${FIX}/tracecompass-test-traces/flipping-endianness`;
const ROTATION = `${FIX}/babeltrace/lttng-tracefile-rotation/kernel`;
const BUG446190 = `${SHARED}/tracecompass-test-traces/bug446190`;
const MANY_THREADS = `${SHARED}/tracecompass-test-traces/many-threads`;
const UNEVEN = `${SHARED}/tracecompass-test-traces/uneven-streams`;

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs an lttng-analyses command. It reads the tracer version from a directory whose name ends
 * in `kernel` (and fails on the wakeup priorities without it), so the trace is linked as such.
 */
function lttng(cmd: string, trace: string, args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'nstrace-la-'));
  tmpDirs.push(dir);
  const k = join(dir, 'kernel');
  symlinkSync(resolve(trace), k);
  const mi = cmd.endsWith('-mi');
  const all = ['--gmt', '--skip-validation', ...(mi ? [] : ['--no-progress']), ...args, k];
  try {
    return execFileSync(cmd, all, { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 }).toString();
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `${cmd} ${all.join(' ')} failed: ${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`,
    );
  }
}

interface Ours {
  text: string;
  /** LAMI document without our per-container tables (as lttng-analyses would print it). */
  mi: string;
}

const TEXT = { cputop: cputopText, memtop: memtopText, syscallstats: syscallstatsText } as const;
const MI = { cputop: cputopMi, memtop: memtopMi, syscallstats: syscallstatsMi } as const;

async function ours(
  name: AnalysisName,
  trace: string,
  opts: AnalyseOptions & { limit?: number } = {},
): Promise<Ours> {
  const ts = openTraces([trace]);
  try {
    const r = await analyse(ts, [name], {
      gmt: true,
      streamRanges: () => streamRangesOf(ts),
      ...opts,
    });
    const ro: ReportOptions = {
      base: r.base,
      gmt: true,
      limit: opts.limit ?? (name === 'syscallstats' ? 0 : 10),
    };
    const res = r[name];
    if (res === undefined) return { text: '', mi: pyJson(resultsJson([])) };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const text = (TEXT[name] as (x: any, o: ReportOptions) => string)(res, ro);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tables = (MI[name] as (x: any, o: ReportOptions) => ReturnType<typeof cputopMi>)(res, ro).filter(
      (t) => !t.cls.name.startsWith('per-container'),
    );
    return { text, mi: pyJson(resultsJson(tables)) };
  } finally {
    ts.close();
  }
}

/** lttng-analyses' text is a prefix of ours, followed by our per-container part. */
function expectTextPrefix(mine: string, theirs: string, name: AnalysisName): void {
  expect(mine.slice(0, theirs.length)).toBe(theirs);
  const rest = mine.slice(theirs.length);
  if (name === 'syscallstats') expect(rest === '' || rest.startsWith('\nPer-container syscalls')).toBe(true);
  else expect(rest).toMatch(/^\n?Per-Container (Usage|Memory Allocations)/);
}

const NAMES: AnalysisName[] = ['cputop', 'memtop', 'syscallstats'];

describe('against lttng-analyses, live', () => {
  it('reproduces the lttng-analyses cputop integration test (upstream expected output)', async () => {
    const expected = readFileSync(`${FIX}/lttng-analyses-synthetic/cputop/_expected/cputop.txt`, 'utf8');
    const mine = await ours('cputop', SYNTH_CPUTOP, { intersection: true });
    expect(mine.text.startsWith(expected)).toBe(true);
    const theirs = lttng('lttng-cputop', SYNTH_CPUTOP, []);
    expectTextPrefix(mine.text, theirs, 'cputop');
    expect(mine.mi + '\n').toBe(lttng('lttng-cputop-mi', SYNTH_CPUTOP, []));
  });

  it('refuses a trace whose streams do not overlap, unless --no-intersection', async () => {
    await expect(ours('cputop', SYNTH_INTERSECT, { intersection: true })).rejects.toThrow(
      /no stream intersection/,
    );
    expect(() => lttng('lttng-cputop', SYNTH_INTERSECT, [])).toThrow(/Trace has no intersection/);
    const mine = await ours('cputop', SYNTH_INTERSECT, { intersection: false });
    const theirs = lttng('lttng-cputop', SYNTH_INTERSECT, ['--no-intersection']);
    expect(mine.text.startsWith(theirs)).toBe(true);
  });

  for (const [label, trace, args] of [
    ['flipping-endianness (big endian, lttng-modules 2.5)', FLIPPING, []],
    [
      'lttng-tracefile-rotation --no-intersection (2.10, rotated stream files)',
      ROTATION,
      ['--no-intersection'],
    ],
  ] as const) {
    it(`cputop on ${label}: text and LAMI`, async () => {
      const mine = await ours('cputop', trace, {
        intersection: !(args as readonly string[]).includes('--no-intersection'),
      });
      expectTextPrefix(mine.text, lttng('lttng-cputop', trace, [...args]), 'cputop');
      expect(mine.mi + '\n').toBe(lttng('lttng-cputop-mi', trace, [...args]));
    });
    it(`memtop and syscallstats on ${label}: a clear error where lttng-analyses prints empty tables`, async () => {
      expect(lttng('lttng-memtop', trace, [...args])).toMatch(/Total memory usage:\n- 0 pages allocated/);
      await expect(ours('memtop', trace)).rejects.toThrow(/lacks kmem_mm_page_alloc.*lttng enable-event/);
      await expect(ours('syscallstats', trace)).rejects.toThrow(/lacks system call entry and exit events/);
    });
  }

  it('intersects the streams of a rotated trace, which babeltrace 1 sees as disjoint files', async () => {
    // lttng-analyses (babeltrace 1) treats every rotated file as a stream and finds no
    // intersection; we chain them as babeltrace2 does and keep the common range.
    expect(() => lttng('lttng-cputop', ROTATION, [])).toThrow(/Trace has no intersection/);
    const whole = await ours('cputop', ROTATION, { intersection: false });
    const mine = await ours('cputop', ROTATION, { intersection: true });
    // Its four CPU streams' packets all cover the first and last events (the packets begin
    // before 21:36:35.458 and end after 21:36:37.5837), so the common range keeps every event.
    expect(mine.text).toBe(whole.text);
  });

  describe('options, on lttng-tracefile-rotation (--no-intersection)', () => {
    // The trace runs from 2019-10-16 21:36:35.523 to 21:36:37.583 (UTC).
    const cases: Array<[string, string[], AnalyseOptions & { limit?: number }]> = [
      [
        '--begin/--end (time of day)',
        ['--begin', '21:36:36.000000000', '--end', '21:36:37.000000000'],
        {
          begin: '21:36:36.000000000',
          end: '21:36:37.000000000',
        },
      ],
      [
        '--timerange (full dates, seconds only)',
        ['--timerange', '[2019-10-16 21:36:36,2019-10-16 21:36:37]'],
        {
          timerange: '[2019-10-16 21:36:36,2019-10-16 21:36:37]',
        },
      ],
      ['--begin as ns since the epoch', ['--begin', '1571261796500000000'], { begin: '1571261796500000000' }],
      ['--end before the trace', ['--end', '21:30:00'], { end: '21:30:00' }],
      ['a bad date', ['--begin', '21:36:36.5'], { begin: '21:36:36.5' }],
      ['--cpu', ['--cpu', '0,2'], { cpus: [0, 2] }],
      ['--limit', ['--limit', '3'], { limit: 3 }],
    ];
    for (const [label, args, opts] of cases) {
      it(`cputop ${label}`, async () => {
        let theirs: string;
        try {
          theirs = lttng('lttng-cputop', ROTATION, ['--no-intersection', ...args]);
        } catch (e) {
          // lttng-analyses rejects the value: so must we
          expect(String(e)).toMatch(/Command line error|date format/);
          await expect(ours('cputop', ROTATION, { ...opts, intersection: false })).rejects.toThrow();
          return;
        }
        const mine = await ours('cputop', ROTATION, { ...opts, intersection: false });
        expectTextPrefix(mine.text, theirs, 'cputop');
      });
    }
    it('cputop --tid and --procname (thread and name filters)', async () => {
      const all = await ours('cputop', ROTATION, { limit: 0, intersection: false });
      const m = /^\S* +[\d.]+ % +(\S+) \((\d+)\)/m.exec(all.text)!;
      const comm = m[1]!;
      const tid = m[2]!;
      for (const [args, opts] of [
        [['--tid', `${tid},1`], { tids: [Number(tid), 1] }],
        [['--procname', comm], { procnames: [comm] }],
      ] as const) {
        const mine = await ours('cputop', ROTATION, { ...opts, intersection: false });
        expectTextPrefix(
          mine.text,
          lttng('lttng-cputop', ROTATION, ['--no-intersection', ...args]),
          'cputop',
        );
      }
    });
  });

  for (const name of NAMES) {
    it(`${name} on uneven-streams (2.10, one stream of four, page allocations), text and LAMI`, async () => {
      if (!existsSync(UNEVEN)) throw new Error(`missing shared trace ${UNEVEN}`);
      const mine = await ours(name, UNEVEN);
      expectTextPrefix(mine.text, lttng(`lttng-${name}`, UNEVEN, []), name);
      expect(JSON.parse(mine.mi)).toEqual(JSON.parse(lttng(`lttng-${name}-mi`, UNEVEN, [])));
    });
  }

  it('cputop on bug446190 (lttng-modules 2.5: old syscall names, wakeup priority offset)', async () => {
    if (!existsSync(BUG446190)) throw new Error(`missing shared trace ${BUG446190}`);
    const mine = await ours('cputop', BUG446190);
    expectTextPrefix(mine.text, lttng('lttng-cputop', BUG446190, []), 'cputop');
  });
});

describe('against stored lttng-analyses 0.6.1 outputs (larger traces)', () => {
  const traces: Array<[string, string, string]> = [
    ['many-threads', MANY_THREADS, `${REF}/tracecompass-test-traces/many-threads`],
    ['bug446190', BUG446190, `${REF}/tracecompass-test-traces/bug446190`],
  ];
  const read = (p: string): string =>
    existsSync(p) ? readFileSync(p, 'utf8') : gunzipSync(readFileSync(`${p}.gz`)).toString('utf8');
  for (const [label, trace, ref] of traces) {
    for (const name of NAMES) {
      it(`${name} on ${label}`, async () => {
        if (!existsSync(trace) || !existsSync(ref))
          throw new Error(`missing shared trace or reference: ${trace}`);
        const theirs = read(`${ref}/${name}.txt`);
        if (name === 'memtop' && theirs.includes('- 0 pages allocated')) {
          await expect(ours(name, trace)).rejects.toThrow(/lacks kmem_mm_page_alloc/);
          return;
        }
        const mine = await ours(name, trace);
        expectTextPrefix(mine.text, theirs, name);
        expect(JSON.parse(mine.mi)).toEqual(JSON.parse(read(`${ref}/${name}.mi.json`)));
      });
    }
  }
});
