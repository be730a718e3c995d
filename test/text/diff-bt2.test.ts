/**
 * `nstrace print` against `babeltrace2` (2.0.4) on real traces, byte for byte:
 * - every trace copied under test/fixtures (always), with option variants;
 * - every trace of /work/shared/traces that babeltrace2 reads (when that directory exists);
 * - traces babeltrace2 must reject: nstrace fails with one line naming the file and the byte
 *   offset (or metadata line), non-zero exit, no hang;
 * - CLI behaviour: `| head`, `-w`, `-o dummy`, bad paths.
 * Known babeltrace2 bugs are normalised only in their exact shape (bt2-compare.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { NSTRACE, ensureBuilt } from '../helpers/cli.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { enumOf, f64, int, str, struct, traceClass, u8, writeTrace } from './synth.js';
import { babeltrace2Check, requireCapability } from '../helpers/require.js';
import type { SynthTrace } from './synth.js';
import type { CompareOptions } from './bt2-compare.js';
import {
  bt2Print,
  compareOutputs,
  differsOnlyByStaleText,
  nstracePrint,
  warningLines,
} from './bt2-compare.js';

const HAVE_BT2 = requireCapability('babeltrace2 2.0.x', babeltrace2Check);
const SHARED = '/work/shared/traces';
const HAVE_SCRIPT = requireCapability('script (util-linux)', () =>
  spawnSync('script', ['--version']).status === 0 ? undefined : 'script is not installed',
);
// The shared collection is not part of the repository (CI may not have it): optional; without
// it only the traces copied in test/fixtures are compared.
const HAVE_SHARED = requireCapability(
  'the shared trace collection',
  () => (existsSync(join(SHARED, '_reference', 'index.json')) ? undefined : `${SHARED} is absent`),
  { optional: true },
);
const FIXTURES = resolve('test/fixtures');
const ROOT = resolve('.');

/** Trace directories (holding `metadata` and at least one stream file) below `dir`. */
function findTraceDirs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    if (names.includes('metadata')) {
      out.push(d);
      return;
    }
    for (const n of names.sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** The trace fixtures of this test (see their READMEs); other modules' fixtures are theirs. */
const PRINT_FIXTURES = [
  join(FIXTURES, 'babeltrace', 'ctf-traces'),
  join(FIXTURES, 'ctf-testsuite', '1.8', 'regression', 'stream'),
  ...['ctf-sequence-empty', 'debuginfo-synth-two-processes', 'flipping-endianness', 'mpi_gather'].map((t) =>
    join(FIXTURES, 'tracecompass-test-traces', t),
  ),
];

/** Fixture traces that babeltrace2 reads (the `fail` ones are tested separately). */
function fixtureTraces(): string[] {
  return PRINT_FIXTURES.flatMap((d) => findTraceDirs(d)).filter((d) => !/\/fail\//.test(d));
}

interface SharedEntry {
  path: string;
  total_bytes: number;
  bt2_run?: { exit_status: number; output_lines: number };
}

function sharedTraces(): SharedEntry[] {
  if (!HAVE_SHARED) return [];
  const index = JSON.parse(readFileSync(join(SHARED, '_reference', 'index.json'), 'utf8')) as SharedEntry[];
  return index
    .filter((e) => e.bt2_run?.exit_status === 0)
    .filter((e) => existsSync(join(SHARED, e.path)))
    .sort((a, b) => a.total_bytes - b.total_bytes);
}

async function expectSame(paths: string[], cli: CompareOptions = {}): Promise<void> {
  // One turn of the event loop per comparison: tests that make hundreds of them would otherwise
  // hold vitest's worker past its RPC deadline (test/setup/stall.ts).
  await new Promise<void>((resolve) => setImmediate(resolve));
  const bt = bt2Print(paths, cli);
  const ours = await nstracePrint(paths, cli);
  const what = `${paths.map((p) => relative(ROOT, p)).join(' ')} ${JSON.stringify(cli)}`;
  if (bt.status === 0) {
    expect(ours.error?.message, `nstrace failed on ${what}`).toBeUndefined();
  } else {
    expect(ours.error, `babeltrace2 failed but nstrace succeeded on ${what}`).toBeDefined();
  }
  const cmp = compareOutputs(ours.out, bt.stdout);
  expect(cmp.diff, `stdout of ${what}`).toBeUndefined();
  expect(warningLines(ours.err), `stderr warnings of ${what}`).toEqual(
    warningLines(bt.stderr.toString('latin1')),
  );
}

describe('the one allowed babeltrace2 difference', () => {
  it('is babeltrace2 showing a string where nstrace shows "" (stale text), nothing else', () => {
    expect(differsOnlyByStaleText('{ filename = "", mode = 4 }', '{ filename = "/etc/x", mode = 4 }')).toBe(
      true,
    );
    expect(differsOnlyByStaleText('{ _x_length = 0, x = "" }', '{ _x_length = 0, x = "hell" }')).toBe(true);
    expect(differsOnlyByStaleText('{ f = "", g = "" }', '{ f = "a\\"b", g = "" }')).toBe(true);
    expect(differsOnlyByStaleText('{ filename = "", mode = 4 }', '{ filename = "/etc/x", mode = 5 }')).toBe(
      false,
    );
    expect(differsOnlyByStaleText('{ filename = "a", mode = 4 }', '{ filename = "b", mode = 4 }')).toBe(
      false,
    );
    expect(differsOnlyByStaleText('{ filename = "/etc/x" }', '{ filename = "" }')).toBe(false);
    expect(differsOnlyByStaleText('{ f = "" }', '{ f = "" }, { g = 1 }')).toBe(false);
  });
});

const saveTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'UTC';
});
afterAll(() => {
  process.env.TZ = saveTz;
});

describe.skipIf(!HAVE_BT2)('nstrace print = babeltrace2 on the fixture traces', () => {
  const traces = fixtureTraces();
  it('has fixtures', () => {
    expect(traces.length).toBeGreaterThan(10);
  });
  for (const t of traces) {
    it(relative(FIXTURES, t), async () => {
      await expectSame([t]);
    });
  }

  const VARIANTS: CompareOptions[] = [
    { names: ['all'], fields: ['all'] },
    { names: ['none'], fields: ['trace:domain,loglevel'] },
    { clockSeconds: true, noDelta: true },
    { clockDate: true, clockGmt: true },
    { clockCycles: true },
    { names: ['payload,scope'], fields: ['trace,trace:hostname,emf'] },
    { clockOffset: -3, clockOffsetNs: 1_500_000_007, clockSeconds: true },
  ];
  it('option variants', async () => {
    for (const t of traces) {
      for (const v of VARIANTS) await expectSame([t], v);
    }
  });

  it('--clock-offset and --clock-offset-ns', async () => {
    for (const t of traces.slice(0, 20)) {
      for (const v of [
        { clockOffset: 3600 },
        { clockOffsetNs: -7 },
        { clockOffset: -1, clockOffsetNs: -2_000_000_001 },
      ]) {
        await expectSame([t], { ...v, clockGmt: true, clockDate: true });
      }
    }
  });

  it('local time zones', async () => {
    for (const tz of ['America/Montreal', 'Asia/Kolkata']) {
      process.env.TZ = tz;
      try {
        for (const t of traces.slice(0, 12)) {
          const bt = bt2Print(
            [t],
            { clockDate: true },
            { ...process.env, TZ: tz, LC_ALL: 'C', TERM: 'dumb' },
          );
          const ours = await nstracePrint([t], { clockDate: true });
          expect(compareOutputs(ours.out, bt.stdout).diff, `${t} TZ=${tz}`).toBeUndefined();
        }
      } finally {
        process.env.TZ = 'UTC';
      }
    }
  });

  it('several traces at once (merged by time), directories above traces', async () => {
    const pick = traces.filter((t) => /trace-with-index|2packets|debug-info|wk-heartbeat/.test(t));
    expect(pick.length).toBeGreaterThan(1);
    await expectSame(pick);
    await expectSame(pick, { fields: ['trace'] });
    const succeed = join(FIXTURES, 'babeltrace', 'ctf-traces', 'succeed');
    for (const parent of ['multi-domains', 'session-rotation', 'session-rotation/a']) {
      await expectSame([join(succeed, parent)]);
      await expectSame([join(succeed, parent)], { fields: ['trace'], names: ['all'] });
    }
  });

  it('--begin/--end on traces with lost events and packets', async () => {
    for (const t of traces) {
      const bt = bt2Print([t], { clockSeconds: true, noDelta: true });
      const times = bt.stdout
        .toString('latin1')
        .split('\n')
        .map((l) => /^\[(\d+\.\d{9})\]/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined);
      if (times.length < 3) continue;
      const at = (f: number): string => times[Math.floor((times.length - 1) * f)]!;
      const cases: CompareOptions[] = [
        { begin: at(0.33), end: at(0.66) },
        { begin: at(0.5) },
        { end: at(0.5) },
        { begin: at(0.25), end: at(0.25), clockSeconds: true },
      ];
      for (const c of cases) await expectSame([t], { ...c, clockGmt: true });
    }
  });
});

describe.skipIf(!HAVE_BT2 || !HAVE_SHARED)('nstrace print = babeltrace2 on /work/shared/traces', () => {
  for (const e of sharedTraces()) {
    it(`${e.path} (${e.total_bytes} B)`, async () => {
      await expectSame([join(SHARED, e.path)]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The CLI as a process

let cli = '';
beforeAll(() => {
  // Tests run from sources; the CLI cases need the built JavaScript.
  ensureBuilt();
  cli = NSTRACE;
}, 300_000);

function nstrace(
  args: string[],
  timeoutMs = 30_000,
): { status: number | null; stdout: string; stderr: string; signal: string | null } {
  const r = spawnSync('node', [cli, ...args], {
    env: { ...process.env, TZ: 'UTC', TERM: 'dumb' },
    timeout: timeoutMs,
    encoding: 'latin1',
    maxBuffer: 1 << 28,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** Must-fail traces: babeltrace2's `fail` set and ctf-testsuite's `stream/fail`. */
function failTraces(): string[] {
  const dirs = [
    join(FIXTURES, 'babeltrace', 'ctf-traces', 'fail'),
    join(FIXTURES, 'ctf-testsuite', '1.8', 'regression', 'stream', 'fail'),
  ];
  if (HAVE_SHARED) {
    dirs.push(join(SHARED, 'babeltrace', 'master', 'ctf-traces', 'fail'));
    dirs.push(join(SHARED, 'ctf-testsuite', '1.8', 'regression', 'stream', 'fail'));
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of dirs) {
    for (const t of findTraceDirs(d)) {
      const key = t.split('/fail/')[1]!;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(t);
    }
  }
  return out;
}

describe('nstrace print fails cleanly on broken traces', () => {
  const traces = failTraces();
  it('has must-fail traces', () => {
    expect(traces.length).toBeGreaterThan(30);
  });
  for (const t of traces) {
    it(relative(ROOT, t), () => {
      const r = nstrace(['print', t], 20_000);
      expect(r.signal, 'hung or crashed').toBeNull();
      expect(r.status, `exit status; stderr: ${r.stderr}`).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(/^nstrace: error: /);
      // Names a file of the trace and where in it.
      expect(lines[0]).toContain(t);
      expect(lines[0], 'byte offset or metadata line').toMatch(/at byte \d+|\/metadata:\d+|metadata/);
    });
  }
});

describe('the print command', () => {
  const small = join(FIXTURES, 'babeltrace', 'ctf-traces', 'succeed', 'trace-with-index');

  it('stops quietly when the reader of the pipe goes away', () => {
    const r = spawnSync('sh', ['-c', `node ${cli} print ${small} ${small} | head -n 3`], {
      encoding: 'latin1',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '').length).toBe(3);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!HAVE_BT2)('-w writes the same text to a file; -o dummy prints nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-print-'));
    try {
      const out = join(dir, 'out.txt');
      const r = nstrace(['print', '-w', out, small]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('');
      expect(readFileSync(out).equals(bt2Print([small]).stdout)).toBe(true);
      const d = nstrace(['print', '-o', 'dummy', small]);
      expect(d.status).toBe(0);
      expect(d.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!HAVE_BT2 || !HAVE_SCRIPT)('colours on a terminal, like babeltrace2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-tty-'));
    try {
      // Every kind of value, an unknown enumeration value, a lost-events warning.
      const synthetic = join(dir, 'synthetic');
      writeTrace(synthetic, colourTrace());
      const traces = [
        synthetic,
        join(FIXTURES, 'babeltrace', 'ctf-traces', 'packet-seq-num', '2-lost-before-last'),
        join(FIXTURES, 'babeltrace', 'ctf-traces', 'succeed', 'meta-variant-no-underscore'),
        join(FIXTURES, 'babeltrace', 'ctf-traces', 'succeed', '2packets'),
      ];
      const optionSets = [
        [],
        ['--names=all', '--fields=all'],
        ['--color=never'],
        ['--clock-cycles'],
        ['--no-delta', '-n', 'none'],
      ];
      for (const t of traces) {
        for (const o of optionSets) {
          const inTty = (cmd: string): string =>
            spawnSync('script', ['-qec', cmd, '/dev/null'], {
              env: { ...process.env, TZ: 'UTC', TERM: 'xterm' },
              encoding: 'latin1',
              timeout: 60_000,
            }).stdout;
          const args = o.join(' ');
          const bt = inTty(`babeltrace2 ${args} ${t}`);
          const ours = inTty(`node ${cli} print ${args} ${t}`);
          expect(bt, 'babeltrace2 should colour').toContain('\x1b[');
          expect(
            compareOutputs(Buffer.from(ours, 'latin1'), Buffer.from(bt, 'latin1')).diff,
            `${t} ${args}`,
          ).toBeUndefined();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad path or option is one line and a non-zero exit', () => {
    // A directory without a trace (not the shared temporary directory: it may hold traces).
    const empty = mkdtempSync(join(tmpdir(), 'nstrace-empty-'));
    for (const args of [
      ['print', '/nonexistent/trace'],
      ['print', FIXTURES + '/no-such-dir'],
      ['print', '--begin', 'yesterday', small],
      ['print', '--names', 'bogus', small],
      ['print', '--begin', '20', '--end', '10', small],
      ['print', empty],
    ]) {
      const r = nstrace(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(/^nstrace: error: /);
    }
    rmSync(empty, { recursive: true, force: true });
  });
});

/** A trace with every kind of value and a lost-events report, for the colour test. */
function colourTrace(): SynthTrace {
  const cls = traceClass({
    events: [
      {
        name: 'all',
        logLevel: 4,
        fields: struct({
          d: u8,
          x: int(32, { base: 16 }),
          o: int(8, { base: 8 }),
          b: int(4, { base: 2, align: 8 }),
          e: enumOf(u8, [
            ['ONE', 1],
            ['ALSO_ONE', 1],
          ]),
          f: f64,
          s: str,
        }),
      },
    ],
  });
  const ev = (ts: number, e: number): { id: number; ts: number; payload: (number | string)[] } => ({
    id: 0,
    ts,
    payload: [7, 255, 8, 5, e, 0.5, 'text\n'],
  });
  return {
    cls,
    streams: [
      {
        streamClassId: 0,
        instanceId: 0,
        packets: [
          { context: { cpu_id: 0 }, events: [ev(10, 1), ev(20, 9)] },
          { context: { cpu_id: 0, events_discarded: 3 }, events: [ev(30, 1)] },
        ],
      },
    ],
  };
}
