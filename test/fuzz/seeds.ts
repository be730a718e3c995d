/**
 * The traces the fuzzer mutates. The default set is in the repository (test/fixtures, samples)
 * so that CI always has it; `--shared` adds a few traces of /work/shared/traces when present.
 * Each seed names its origin and licence: a regression fixture derived from it inherits both.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMetadataBytes } from '../../src/ctf/metadata/packetized.js';

/** The repository root: the nearest directory above this file with nstrace's package.json. */
function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'nstrace')
      return d;
    const up = dirname(d);
    if (up === d) throw new Error('fuzz: cannot find the nstrace repository root');
    d = up;
  }
}

export const ROOT = findRoot();
const SHARED = '/work/shared/traces';

export interface Seed {
  /** Short stable name (used in case names and reports). */
  readonly name: string;
  /** The trace directory (holds `metadata`). */
  readonly dir: string;
  /** Where the trace comes from and under which licence (copied into fixtures made from it). */
  readonly origin: string;
  /** The metadata file is packetized (binary packets, not TSDL text). */
  readonly packetized: boolean;
  /** Stream files, relative to `dir`, sorted. */
  readonly streams: readonly string[];
  /** Index files (`index/*.idx`), relative to `dir`, sorted. */
  readonly indexes: readonly string[];
  /** How often it is picked: kernel traces (which the analyses analyse) 3, others 1. */
  readonly weight: number;
}

const BT = 'efficios/babeltrace @ 385ef9f1 tests/data/ctf-traces (MIT; data files carry no SPDX tag)';
const TC = 'eclipse-tracecompass/tracecompass-test-traces @ 3ddd1ebc (EPL-2.0)';
const LA =
  'generated with lttng/lttng-analyses @ 0c87b2d3 tests/integration trace_writer.py (MIT), see test/fixtures/lttng-analyses-synthetic/README.md';
const TS = 'efficios/ctf-testsuite @ bbea7ef6 tests/1.8/regression (no LICENSE file; scripts GPL-2.0-only)';
const SAMPLE = 'nstrace samples/containers-demo (synthetic, written by nstrace; MIT)';

/** Repository seeds: [name, path from the repo root, origin]. */
const REPO_SEEDS: ReadonlyArray<readonly [string, string, string]> = [
  ['containers-demo', 'samples/containers-demo/kernel', SAMPLE],
  ['la-intersect', 'test/fixtures/lttng-analyses-synthetic/intersect/kernel', LA],
  ['bt-multi-kernel', 'test/fixtures/babeltrace/multi-domains/kernel', BT],
  ['bt-multi-ust', 'test/fixtures/babeltrace/multi-domains/ust', BT],
  ['bt-trace-with-index', 'test/fixtures/babeltrace/trace-with-index', BT],
  ['tc-flipping-endianness', 'test/fixtures/tracecompass-test-traces/flipping-endianness', TC],
  ['tc-ctf-sequence-empty', 'test/fixtures/tracecompass-test-traces/ctf-sequence-empty', TC],
  ['tc-mpi-gather', 'test/fixtures/tracecompass-test-traces/mpi_gather', TC],
  ['tc-debuginfo-synth', 'test/fixtures/tracecompass-test-traces/debuginfo-synth-two-processes', TC],
  ['bt-sequence', 'test/fixtures/babeltrace/ctf-traces/succeed/sequence', BT],
  ['bt-variant', 'test/fixtures/babeltrace/ctf-traces/succeed/meta-variant-one-underscore', BT],
  ['bt-struct-array-align', 'test/fixtures/babeltrace/ctf-traces/succeed/struct-array-align-elem', BT],
  ['bt-wk-heartbeat', 'test/fixtures/babeltrace/ctf-traces/succeed/wk-heartbeat-u', BT],
  ['bt-lttng-crash', 'test/fixtures/babeltrace/ctf-traces/succeed/lttng-crash', BT],
  ['bt-2packets', 'test/fixtures/babeltrace/ctf-traces/succeed/2packets', BT],
  ['bt-seq-num-lost', 'test/fixtures/babeltrace/ctf-traces/packet-seq-num/7-lost-between-2-with-index', BT],
  ['bt-intersect', 'test/fixtures/babeltrace/ctf-traces/intersection/3eventsintersect', BT],
];

/** Extra seeds from the shared collection (long runs only), all under 1.5 MiB. */
const SHARED_SEEDS: ReadonlyArray<readonly [string, string, string]> = [
  ['tc-bug446190', 'tracecompass-test-traces/bug446190', TC],
  ['tc-debuginfo-app4', 'tracecompass-test-traces/debuginfo-test-app4', TC],
  ['tc-context-switches-ust', 'tracecompass-test-traces/context-switches/context-switches-ust', TC],
  ['bt-session-rotation', 'babeltrace/master/ctf-traces/succeed/session-rotation/3/ust/pid/10352', BT],
  ['bt-no-packet-context', 'babeltrace/master/ctf-traces/succeed/no-packet-context', BT],
  ['bt-barectf-before-packet', 'babeltrace/master/ctf-traces/succeed/barectf-event-before-packet', BT],
  ['ts-array-empty-struct', 'ctf-testsuite/1.8/regression/stream/pass/array-with-empty-struct', TS],
  ['ts-variant-selected', 'ctf-testsuite/1.8/regression/stream/pass/in-bound-variant-selected-element', TS],
  ['ts-seq-empty-struct', 'ctf-testsuite/1.8/regression/stream/pass/sequence-with-empty-struct', TS],
  ['ts-integer-large-size', 'ctf-testsuite/1.8/regression/stream/pass/integer-large-size', TS],
];

function filesBelow(dir: string, sub = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
    const rel = sub === '' ? e.name : `${sub}/${e.name}`;
    if (e.isDirectory()) out.push(...filesBelow(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

export function describeSeed(name: string, dir: string, origin: string): Seed {
  const files = filesBelow(dir);
  const path = join(dir, 'metadata');
  const md = readMetadataBytes(readFileSync(path), path);
  return {
    name,
    dir,
    origin,
    packetized: md.packetized,
    weight: /\bsched_switch\b/.test(md.text) ? 3 : 1,
    streams: files.filter((f) => f !== 'metadata' && !f.startsWith('index/') && !f.startsWith('.')),
    indexes: files.filter((f) => f.startsWith('index/') && f.endsWith('.idx')),
  };
}

/** The seeds: the repository's, plus the shared ones when asked for and present. */
export function loadSeeds(withShared = false): Seed[] {
  const seeds: Seed[] = [];
  for (const [name, rel, origin] of REPO_SEEDS) {
    const dir = join(ROOT, rel);
    if (!existsSync(join(dir, 'metadata'))) throw new Error(`fuzz seed ${name}: ${rel} is missing`);
    seeds.push(describeSeed(name, dir, origin));
  }
  if (withShared) {
    for (const [name, rel, origin] of SHARED_SEEDS) {
      const dir = join(SHARED, rel);
      if (!existsSync(join(dir, 'metadata'))) continue;
      const s = describeSeed(name, dir, origin);
      const bytes = [...s.streams, 'metadata'].reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      if (bytes <= 1.5 * (1 << 20)) seeds.push(s);
    }
  }
  return seeds;
}

/** A seed's directory as shown in reports (relative to the repo when inside it). */
export function seedPath(s: Seed): string {
  const r = relative(ROOT, s.dir);
  return r.startsWith('..') ? s.dir : r;
}
