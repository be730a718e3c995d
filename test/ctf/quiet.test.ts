/**
 * The reader's quiet skipping (TraceSet.setQuiet / skipQuiet) against a full read of the same
 * trace: the events given out are those of the full read, in its order, minus only events of
 * quiet classes whose stream event context equals that of the last event given out of their
 * stream; the skipped ones are counted, their latest time kept.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventRecord, FieldValue } from '../../src/ctf/event.js';
import { TraceSet } from '../../src/ctf/index.js';

const ROOT = resolve(__dirname, '../..');
/** Real recordings by nstrace record: contexts on every event, string payloads, 2 and 4 CPUs. */
const TRACES = [`${ROOT}/samples/containers-live/kernel`, `${ROOT}/samples/containers-demo/kernel`];

interface Ev {
  stream: number;
  ts: number;
  key: number;
  ctx: string;
}

const ctxKey = (v: readonly FieldValue[] | undefined): string =>
  JSON.stringify(v ?? null, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

function ev(r: EventRecord): Ev {
  return { stream: r.stream.index, ts: r.ts, key: r.classKey, ctx: ctxKey(r.streamContext) };
}

function readAll(
  trace: string,
  quietOf?: (name: string) => boolean,
): { evs: Ev[]; skipped: number; lastTs?: number } {
  const ts = TraceSet.open([trace], { order: 'babeltrace1' });
  try {
    if (quietOf !== undefined) {
      ts.onFirstOfClass((c) => {
        const q = quietOf(c.eventClass.name);
        ts.setPayloadWanted(c.key, !q);
        ts.setQuiet(c.key, q);
      });
      ts.skipQuiet();
    }
    const evs: Ev[] = [];
    for (let r = ts.next(); r !== null; r = ts.next()) if (r.kind === 'event') evs.push(ev(r));
    const q = ts.quietSkipped();
    return { evs, skipped: q.count, lastTs: q.lastTs };
  } finally {
    ts.close();
  }
}

/** Checks the quiet read `got` against the full read `all` (see the file comment). */
function check(
  all: readonly Ev[],
  got: readonly Ev[],
  quietKeys: ReadonlySet<number>,
): { skipped: number; lastTs: number } {
  const lastGiven = new Map<number, string>();
  let j = 0;
  let skipped = 0;
  let lastTs = Number.NEGATIVE_INFINITY;
  for (const e of all) {
    const g = got[j];
    if (g !== undefined && g.stream === e.stream && g.ts === e.ts && g.key === e.key && g.ctx === e.ctx) {
      lastGiven.set(e.stream, e.ctx);
      j++;
      continue;
    }
    // Not given out: allowed only for a quiet class with the context of the last one given out.
    if (!quietKeys.has(e.key) || lastGiven.get(e.stream) !== e.ctx) {
      throw new Error(`event at ${e.ts} of stream ${e.stream} (class ${e.key}) was not given out`);
    }
    skipped++;
    lastTs = Math.max(lastTs, e.ts);
  }
  expect(j).toBe(got.length);
  return { skipped, lastTs };
}

describe('quiet skipping gives out every event it must, in order', () => {
  for (const trace of TRACES) {
    for (const [what, quietOf] of [
      ['every class quiet', () => true],
      ['all but the scheduling events quiet', (n: string) => !n.startsWith('sched_')],
      ['only the system calls quiet', (n: string) => n.startsWith('syscall_')],
    ] as const) {
      it(`${trace.replace(`${ROOT}/`, '')}: ${what}`, () => {
        const all = readAll(trace);
        const quiet = readAll(trace, quietOf);
        // Keys of quiet classes, from the names (keys are the same in both reads).
        const names = new Map<number, string>();
        const ts = TraceSet.open([trace], { order: 'babeltrace1' });
        for (const c of ts.eventClasses) names.set(c.key, c.eventClass.name);
        ts.close();
        const quietKeys = new Set([...names].filter(([, n]) => quietOf(n)).map(([k]) => k));
        const { skipped, lastTs } = check(all.evs, quiet.evs, quietKeys);
        expect(skipped).toBe(quiet.skipped);
        expect(skipped).toBeGreaterThan(all.evs.length / 10);
        // The latest skipped time is kept, whatever order the streams were skipped in.
        expect(quiet.lastTs).toBe(lastTs);
      });
    }
  }
});

/** An event as given out, with everything decoded (clock value and payload included). */
function fullEv(r: EventRecord): string {
  return `${r.stream.index} ${r.ts} ${r.cycles} ${r.classKey} ${ctxKey(r.streamContext)} ${ctxKey(r.payload)}`;
}

describe('quiet skipping turned off in the middle of a read', () => {
  // Consumers may change their mind during the read (`IdleSwitch`: the analyses runner turns a
  // class's quiet flag on and off). From the change on, every event not consumed yet comes out
  // as in a full read: the rest of the read is the end of a full read, clock values and payloads
  // included, whatever the reader had consumed or looked at before.
  for (const trace of TRACES) {
    for (const after of [20, 50, 400, 3000]) {
      it(`${trace.replace(`${ROOT}/`, '')}: every class quiet for ${after} records, then none`, () => {
        const full: string[] = [];
        const ref = TraceSet.open([trace], { order: 'babeltrace1' });
        for (let r = ref.next(); r !== null; r = ref.next()) if (r.kind === 'event') full.push(fullEv(r));
        ref.close();

        const ts = TraceSet.open([trace], { order: 'babeltrace1' });
        try {
          let quiet = true;
          ts.onFirstOfClass((c) => {
            ts.setPayloadWanted(c.key, !quiet);
            ts.setQuiet(c.key, quiet);
          });
          ts.skipQuiet();
          const rest: string[] = [];
          let given = 0;
          for (let r = ts.next(); r !== null; r = ts.next()) {
            if (r.kind !== 'event') continue;
            if (!quiet) rest.push(fullEv(r));
            else if (++given === after) {
              quiet = false;
              for (const c of ts.eventClasses) {
                ts.setQuiet(c.key, false);
                ts.setPayloadWanted(c.key, true);
              }
            }
          }
          const skipped = ts.quietSkipped().count;
          expect(skipped).toBeGreaterThan(0);
          expect(given + skipped + rest.length).toBe(full.length);
          expect(rest).toEqual(full.slice(full.length - rest.length));
        } finally {
          ts.close();
        }
      });
    }
  }
});
