/**
 * The bpf recorder's reorder window (src/record/bpf/order.ts) and switch inference
 * (src/record/bpf/infer.ts), with fake records.
 */
import { describe, expect, it } from 'vitest';
import { ReorderWindow } from '../../src/record/bpf/order.js';
import { SwitchInference, type InferredSwitch, type SwitchLayout } from '../../src/record/bpf/infer.js';
import { PRIO_UNOBSERVED_NEXT, PRIO_UNOBSERVED_PREV } from '../../src/record/lttng-events.js';

interface Out {
  cpu: number;
  ts: number;
  name: string;
}

/** A "ring": records are bytes of their name at some offset; the window must copy on settle. */
function ringWith(names: string[]): { ring: Uint8Array; view: DataView; at: number[] } {
  const ring = new Uint8Array(1024);
  const at: number[] = [];
  let o = 0;
  for (const n of names) {
    at.push(o);
    ring.set(new TextEncoder().encode(n), o);
    o += n.length;
  }
  return { ring, view: new DataView(ring.buffer), at };
}

function setup(depth = 4): { w: ReorderWindow; out: Out[] } {
  const out: Out[] = [];
  const w = new ReorderWindow(
    (buf, _v, off, len, ts, cpu) =>
      out.push({ cpu, ts, name: new TextDecoder().decode(buf.subarray(off, off + len)) }),
    4,
    depth,
  );
  return { w, out };
}

describe('ReorderWindow', () => {
  it('writes each CPU in time order when interrupts put later records first', () => {
    const { w, out } = setup();
    // Ring order: an NMI's record, then the hardirq it interrupted, then the task's (all CPU 0);
    // CPU 1 in order meanwhile.
    const { ring, view, at } = ringWith(['nmi', 'irq', 'task', 'c1a', 'c1b']);
    w.ringView = view;
    w.push(ring, at[0]!, 3, 30, 0, undefined);
    w.push(ring, at[3]!, 3, 5, 1, undefined);
    w.push(ring, at[1]!, 3, 20, 0, undefined);
    w.push(ring, at[2]!, 4, 10, 0, undefined);
    w.push(ring, at[4]!, 3, 6, 1, undefined);
    w.flushAll();
    expect(out.filter((e) => e.cpu === 0).map((e) => e.name)).toEqual(['task', 'irq', 'nmi']);
    expect(out.filter((e) => e.cpu === 1).map((e) => e.name)).toEqual(['c1a', 'c1b']);
    expect(w.reordered).toBe(2);
  });

  it('holds at most `depth` records of a CPU, and writes the oldest beyond', () => {
    const { w, out } = setup(2);
    const { ring, view, at } = ringWith(['a', 'b', 'c', 'd']);
    w.ringView = view;
    for (let i = 0; i < 4; i++) w.push(ring, at[i]!, 1, i + 1, 2, undefined);
    expect(out.map((e) => e.name)).toEqual(['a', 'b']);
    expect(w.oldest(2)).toBe(3);
    expect(w.oldest(0)).toBe(Infinity);
  });

  it('copies what it still holds before the ring space is released', () => {
    const { w, out } = setup();
    const { ring, view, at } = ringWith(['late', 'early']);
    w.ringView = view;
    w.push(ring, at[0]!, 4, 50, 0, undefined);
    w.settle();
    ring.fill(0x78); // the kernel reuses the space
    const own = new TextEncoder().encode('early');
    w.push(own, 0, 5, 40, 0, new DataView(own.buffer));
    w.flushAll();
    expect(out.map((e) => e.name)).toEqual(['early', 'late']);
    expect(w.maxHeld).toBe(1);
  });

  it('writes the records older than a limit (a quiet CPU), keeps the others', () => {
    const { w, out } = setup();
    const { ring, view, at } = ringWith(['x', 'y']);
    w.ringView = view;
    w.push(ring, at[0]!, 1, 100, 3, undefined);
    w.push(ring, at[1]!, 1, 200, 3, undefined);
    w.flushUpTo(150);
    expect(out.map((e) => e.name)).toEqual(['x']);
    expect(w.oldest(3)).toBe(200);
  });

  it('passes a record of an unknown CPU through', () => {
    const { w, out } = setup();
    const { ring, view, at } = ringWith(['z']);
    w.ringView = view;
    w.push(ring, at[0]!, 1, 1, 99, undefined);
    expect(out).toEqual([{ cpu: 99, ts: 1, name: 'z' }]);
  });
});

// A fake record for the inference: [ctx: 4 bytes tid marker + 16 bytes procname][raw sched_switch].
const CTX = 20;
const SW: SwitchLayout = {
  id: 7,
  prevComm: 8,
  prevPid: 24,
  prevPrio: 28,
  nextComm: 40,
  nextPid: 56,
  nextPrio: 60,
};

function rec(
  tid: number,
  comm: string,
  sw?: { prev: number; next: number; nextComm: string; nextPrio: number },
) {
  const b = new Uint8Array(CTX + 64);
  const v = new DataView(b.buffer);
  v.setInt32(0, tid, true);
  b.set(new TextEncoder().encode(comm), 4);
  v.setUint16(CTX, sw ? SW.id : 99, true);
  if (sw) {
    b.set(new TextEncoder().encode(comm), CTX + SW.prevComm);
    v.setInt32(CTX + SW.prevPid, sw.prev, true);
    v.setInt32(CTX + SW.prevPrio, 120, true);
    b.set(new TextEncoder().encode(sw.nextComm), CTX + SW.nextComm);
    v.setInt32(CTX + SW.nextPid, sw.next, true);
    v.setInt32(CTX + SW.nextPrio, sw.nextPrio, true);
  }
  return { b, v };
}

function inference() {
  const out: Array<{ cpu: number; ts: number; sw: InferredSwitch; ctxTid: number }> = [];
  const inf = new SwitchInference(2, CTX, 4, SW, (cpu, ts, sw, ctx) =>
    out.push({ cpu, ts, sw, ctxTid: new DataView(ctx.buffer, ctx.byteOffset).getInt32(0, true) }),
  );
  const see = (cpu: number, ts: number, r: { b: Uint8Array; v: DataView }, tid: number): void =>
    inf.see(cpu, tid, ts, r.b, r.v, 0, CTX);
  return { inf, out, see };
}

describe('SwitchInference', () => {
  it('writes the switch the kernel did not report, in the previous task context', () => {
    const { inf, out, see } = inference();
    // 30 ran on CPU 1 earlier (its priority is known from that switch).
    see(1, 0, rec(5, 'x', { prev: 5, next: 30, nextComm: 'db', nextPrio: 115 }), 5);
    see(0, 1, rec(10, 'web', { prev: 10, next: 20, nextComm: 'worker', nextPrio: 110 }), 10);
    see(0, 2, rec(20, 'worker'), 20); // 20 runs, as the switch said
    see(0, 3, rec(30, 'db'), 30); // no switch 20 -> 30 was reported
    expect(out).toEqual([
      {
        cpu: 0,
        ts: 3,
        sw: {
          prevComm: 'worker',
          prevTid: 20,
          prevPrio: 10,
          nextComm: 'db',
          nextTid: 30,
          nextPrio: 15,
          prioUnobserved: 0,
        },
        ctxTid: 20,
      },
    ]);
    expect(inf.inferred).toBe(1);
    expect(inf.prioUnobserved).toBe(0);
  });

  it("takes a task's priority from the switch to it; counts a priority no record showed", () => {
    const { inf, out, see } = inference();
    const r = rec(20, 'worker');
    inf.switchedIn(0, 20, 105, r.b, 0);
    see(0, 1, r, 20);
    // 30 was never shown by a switch: its priority is /proc's now, not observed (counted).
    see(0, 2, rec(30, 'db'), 30);
    expect(out.map((e) => [e.sw.prevTid, e.sw.prevPrio])).toEqual([[20, 5]]);
    // The switch itself says which priority was not observed: next (30), not prev (20).
    expect(out.map((e) => e.sw.prioUnobserved)).toEqual([PRIO_UNOBSERVED_NEXT]);
    expect(inf.prioUnobserved).toBe(1);
    // 30's guess is not an observation: a later switch 30 -> 20 still says prev was not observed.
    see(0, 3, rec(20, 'worker'), 20);
    expect(out.map((e) => [e.sw.prevTid, e.sw.prioUnobserved])).toEqual([
      [20, PRIO_UNOBSERVED_NEXT],
      [30, PRIO_UNOBSERVED_PREV],
    ]);
    expect(inf.prioUnobserved).toBe(2);
  });

  it('does not infer on the reported chain, on another CPU, or once the CPU lost records', () => {
    const { inf, out, see } = inference();
    see(0, 1, rec(10, 'a', { prev: 10, next: 20, nextComm: 'b', nextPrio: 120 }), 10);
    see(1, 2, rec(30, 'c'), 30);
    see(0, 3, rec(20, 'b', { prev: 20, next: 10, nextComm: 'a', nextPrio: 120 }), 20);
    see(0, 4, rec(10, 'a'), 10);
    expect(out).toEqual([]);
    inf.markLossy(1);
    see(1, 5, rec(40, 'd'), 40);
    expect(out).toEqual([]);
  });

  it('leaves a hole (counted) when the previous task was never seen in a record', () => {
    const { inf, out, see } = inference();
    // 10 switches to 20; 20 has no record anywhere before 30 shows up.
    see(0, 1, rec(10, 'a', { prev: 10, next: 20, nextComm: 'b', nextPrio: 120 }), 10);
    see(0, 2, rec(30, 'c'), 30);
    expect(out).toEqual([]);
    expect(inf.skipped).toBe(1);
  });

  it('keeps the context of a record read from the ring once the ring is released', () => {
    const { out, see, inf } = inference();
    const r = rec(20, 'worker');
    see(0, 1, r, 20);
    inf.settle(r.b);
    r.b.fill(0); // the kernel reuses the space
    see(0, 2, rec(30, 'db'), 30);
    expect(out.map((e) => [e.sw.prevTid, e.sw.prevComm, e.ctxTid])).toEqual([[20, 'worker', 20]]);
  });

  it('keeps idle tasks apart per CPU', () => {
    const { out, see } = inference();
    see(0, 1, rec(0, 'swapper/0'), 0);
    see(1, 2, rec(0, 'swapper/1'), 0);
    see(1, 3, rec(5, 'x'), 5);
    expect(out.map((e) => [e.cpu, e.sw.prevComm])).toEqual([[1, 'swapper/1']]);
  });
});
