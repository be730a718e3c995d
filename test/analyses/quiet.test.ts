/**
 * The reader's quiet skipping (TraceSet.setQuiet / skipQuiet: events nobody would see are
 * consumed without being given out, some of them ahead of the other streams' time order) must
 * change no result: every analysis, run alone (so that most classes are quiet) and all together,
 * gives the same results with the skipping as without it, on real recordings (string payloads,
 * several CPUs, packets of every size) and on the synthetic sample. The comparison run also
 * decodes every payload (the subscribers' `needsPayload` answers unused) and hides the reader's
 * context versions (`streamContextVersion`), which the model takes as a shortcut.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTraces, streamRangesOf } from '../../src/analyses/open.js';
import type { AnalysisName } from '../../src/analyses/requirements.js';
import { type AnalyseResult, analyse } from '../../src/analyses/session.js';
import type { TraceSource } from '../../src/analyses/session.js';
import { TraceSet } from '../../src/ctf/index.js';
import { streamContextField } from '../../src/model/fields.js';
import { MissingEventsError } from '../../src/util/errors.js';

const ROOT = resolve(__dirname, '../..');
const SHARED = '/work/shared/traces';
/** Traces, and whether their events have stream contexts (without them nothing is quiet). */
const TRACES: ReadonlyArray<[string, boolean]> = [
  [`${ROOT}/samples/containers-live/kernel`, true],
  [`${ROOT}/samples/containers-demo/kernel`, true],
  [`${SHARED}/tracecompass-test-traces/bug446190`, false],
  [`${SHARED}/tracecompass-test-traces/many-threads`, false],
  [`${ROOT}/test/fixtures/babeltrace/lttng-tracefile-rotation/kernel`, false],
];

const SETS: ReadonlyArray<readonly AnalysisName[]> = [
  ['cputop'],
  ['memtop'],
  ['syscallstats'],
  ['sched'],
  ['io'],
  ['irq'],
  ['cputop', 'memtop', 'syscallstats', 'sched', 'io', 'irq'],
];

/**
 * The trace set with its shortcuts hidden: every event is given out (no quiet skipping) with its
 * payload (nobody says which payloads nobody reads) and without context versions (consumers
 * compare the context values of every record).
 */
function plainSource(ts: TraceSet): TraceSource {
  const hidden = new Set<string | symbol>([
    'setQuiet',
    'skipQuiet',
    'quietSkipped',
    'setPayloadWanted',
    'onFirstOfClass',
  ]);
  const next = (): ReturnType<TraceSet['next']> => {
    const r = ts.next();
    if (r !== null && r.kind === 'event') r.streamContextVersion = undefined;
    return r;
  };
  return new Proxy(ts, {
    get(target, prop, receiver) {
      if (hidden.has(prop)) return undefined;
      if (prop === 'next') return next;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as TraceSource;
}

/**
 * Plain data of a result (maps, sets and big integers included), linear in its size: an object
 * met again is written as its number in the order of first meeting, which both runs share when
 * they build the same objects in the same order.
 */
function plain(root: unknown): unknown {
  const ids = new Map<object, number>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return '[function]';
    if (v === null || typeof v !== 'object') return v;
    const id = ids.get(v);
    if (id !== undefined) return `[ref ${id}]`;
    ids.set(v, ids.size);
    if (v instanceof Map) return [...v].map(([k, x]) => [walk(k), walk(x)]);
    if (v instanceof Set) return [...v].map(walk);
    if (Array.isArray(v)) return v.map(walk);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = walk((v as Record<string, unknown>)[k]);
    return out;
  };
  return walk(root);
}

async function run(
  trace: string,
  names: readonly AnalysisName[],
  quiet: boolean,
): Promise<{ r: AnalyseResult; skipped: number }> {
  const ts = openTraces([trace]);
  try {
    const r = await analyse(quiet ? ts : plainSource(ts), names, {
      gmt: true,
      partial: true,
      streamRanges: () => streamRangesOf(ts),
    });
    return { r, skipped: ts.quietSkipped().count };
  } finally {
    ts.close();
  }
}

describe('quiet skipping, payloads left undecoded and context versions change no result', () => {
  for (const [trace, contexts] of TRACES) {
    const name = trace.replace(`${ROOT}/`, '').replace(`${SHARED}/`, '');
    it.runIf(existsSync(trace))(`on ${name}`, { timeout: 120_000 }, async () => {
      let quietSkipped = 0;
      for (const names of SETS) {
        let a: Awaited<ReturnType<typeof run>>;
        try {
          a = await run(trace, names, true);
        } catch (e) {
          // The trace lacks the events of this analysis (the error says which).
          expect(e).toBeInstanceOf(MissingEventsError);
          continue;
        }
        const b = await run(trace, names, false);
        expect(b.skipped).toBe(0);
        expect(plain(a.r), names.join(',')).toEqual(plain(b.r));
        // The summary counts every event either way (skipped ones included).
        expect(a.r.summary.events).toBe(b.r.summary.events);
        quietSkipped += a.skipped;
      }
      // The comparison means something: events were skipped in some runs.
      if (contexts) expect(quietSkipped).toBeGreaterThan(0);
    });
  }
});

describe("a thread's last-seen time", () => {
  // Before the reader told the model what it skipped, and before the model followed every
  // event of a context run, lastSeen was the time the thread's context last appeared anew
  // (up to seconds early for a thread that kept its CPU), and depended on the analyses run.
  it.each([true, false])(
    'is at least that of its last event on samples/containers-live (quiet skipping %s)',
    async (quiet) => {
      const trace = `${ROOT}/samples/containers-live/kernel`;
      const last = new Map<number, number>();
      const all = TraceSet.open([trace], { order: 'babeltrace1' });
      try {
        for (let r = all.next(); r !== null; r = all.next()) {
          if (r.kind !== 'event' || r.streamContext === undefined) continue;
          const f = streamContextField(r.stream.streamClass, 'tid');
          if (f === undefined) continue;
          const tid = Number(r.streamContext[f.index]);
          if (r.ts > (last.get(tid) ?? Number.NEGATIVE_INFINITY)) last.set(tid, r.ts);
        }
      } finally {
        all.close();
      }
      expect(last.size).toBeGreaterThan(50);
      const { r } = await run(trace, ['cputop'], quiet);
      const threads = new Map(r.model.allThreads.map((t) => [t.tid, t]));
      for (const [tid, ts] of last) {
        const t = threads.get(tid);
        expect(t, `thread ${tid}`).toBeDefined();
        expect(t!.lastSeen, `thread ${tid}`).toBeGreaterThanOrEqual(ts);
        // Later only when a scheduling or process event names it later: never past the end.
        expect(t!.lastSeen, `thread ${tid}`).toBeLessThanOrEqual(r.summary.lastTs!);
      }
    },
  );
});
