/** ContextRefs: the context blocks the kernel left out of syscall records, put back in ring order. */
import { describe, expect, it } from 'vitest';
import { ContextRefs } from '../../src/record/bpf/context-refs.js';
import {
  FLAG_CTX_REF,
  FLAG_CTX_SAME,
  FLAG_CTX_UNKNOWN,
  FLAG_STR_UNKNOWN,
  HDR,
} from '../../src/record/bpf/layout.js';

const SIZE = 12; // a 12-byte block: raw area at align8(24 + 12) = 40
const RAW = 40;

/** A record as the kernel writes it: whole (block `ctx`) or elided (no block). */
function rec(cpu: number, flags: number, ctx: number, raw: number[]): Uint8Array {
  const elided = (flags & FLAG_CTX_SAME) !== 0;
  const at = elided ? HDR : RAW;
  const b = new Uint8Array(at + raw.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1000 + ctx, true); // time
  v.setUint32(8, cpu, true);
  b[12] = flags;
  v.setInt32(16, 42, true);
  if (!elided) for (let i = 0; i < SIZE; i++) b[HDR + i] = ctx;
  b.set(raw, at);
  return b;
}

/** Feeds records through one ring-like buffer; returns each record made whole. */
function feed(refs: ContextRefs, recs: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const r of recs) {
    // A ring: 8-aligned records, padded to 8 (the words past a record are still the ring's).
    const ring = new Uint8Array(((r.length + 7) & ~7) + 16);
    ring.set(r, 8);
    const w = new Uint32Array(ring.buffer);
    const at = refs.see(ring, w, 8, r.length, new DataView(ring.buffer).getUint32(16, true));
    out.push(at < 0 ? ring.slice(8, 8 + r.length) : refs.buf.slice(at, at + r.length + RAW - HDR));
  }
  return out;
}

describe('ContextRefs', () => {
  it("puts back the block of the CPU's last reference record, whatever the other CPUs wrote", () => {
    const refs = new ContextRefs(SIZE, RAW);
    const out = feed(refs, [
      rec(0, FLAG_CTX_REF, 7, [1, 2, 3]),
      rec(1, FLAG_CTX_REF, 9, [4]),
      rec(0, FLAG_CTX_SAME | FLAG_STR_UNKNOWN, 0, [5, 6, 7, 8]),
      rec(1, FLAG_CTX_SAME, 0, [9]),
      // A whole record without FLAG_CTX_REF (a program that interrupted another) is no reference.
      rec(0, 0, 3, [10]),
      rec(0, FLAG_CTX_SAME, 0, [11]),
      rec(0, FLAG_CTX_REF, 5, [12]),
      rec(0, FLAG_CTX_SAME, 0, [13]),
    ]);
    const block = (r: Uint8Array): number[] => [...r.subarray(HDR, HDR + SIZE)];
    const raw = (r: Uint8Array): number[] => [...r.subarray(RAW)];
    expect(out.map(block).map((b) => b[0])).toEqual([7, 9, 7, 9, 3, 7, 5, 5]);
    expect(out.map((r) => block(r).every((x) => x === block(r)[0]))).toEqual(Array(8).fill(true));
    expect(out.map(raw)).toEqual([[1, 2, 3], [4], [5, 6, 7, 8], [9], [10], [11], [12], [13]]);
    // The header stays (time, cpu, tid), the other flags too; FLAG_CTX_SAME is gone.
    expect(out[2]![12]).toBe(FLAG_STR_UNKNOWN);
    expect(new DataView(out[2]!.buffer).getUint32(0, true)).toBe(1000);
    expect(new DataView(out[3]!.buffer).getUint32(8, true)).toBe(1);
    expect(new DataView(out[3]!.buffer).getInt32(16, true)).toBe(42);
    // Padding between block and raw area is zero.
    expect([...out[2]!.subarray(HDR + SIZE, RAW)]).toEqual([0, 0, 0, 0]);
    expect(refs.restored).toBe(4);
    expect(refs.unresolved).toBe(0);
  });

  it('an elided record of a CPU with no reference gets an unknown context (zero, flagged) and is counted', () => {
    const refs = new ContextRefs(SIZE, RAW);
    const [r] = feed(refs, [rec(3, FLAG_CTX_SAME, 0, [1])]);
    expect(r![12]! & FLAG_CTX_UNKNOWN).toBe(FLAG_CTX_UNKNOWN);
    expect(r![12]! & FLAG_CTX_SAME).toBe(0);
    expect([...r!.subarray(HDR, RAW)]).toEqual(Array(RAW - HDR).fill(0));
    expect(refs.unresolved).toBe(1);
  });

  it('records handed out stay as they were when later ones fill new chunks', () => {
    const refs = new ContextRefs(SIZE, RAW);
    feed(refs, [rec(0, FLAG_CTX_REF, 1, [0])]);
    const kept: Array<{ buf: Uint8Array; at: number; n: number }> = [];
    for (let i = 0; i < 5000; i++) {
      const r = rec(0, FLAG_CTX_SAME, 0, [i & 0xff, (i >> 8) & 0xff]);
      const ring = new Uint8Array((r.length + 7) & ~7);
      ring.set(r);
      const at = refs.see(ring, new Uint32Array(ring.buffer), 0, r.length, 0);
      kept.push({ buf: refs.buf, at, n: i });
    }
    expect(new Set(kept.map((k) => k.buf)).size, 'chunks').toBeGreaterThan(1);
    for (const k of kept) {
      expect(k.buf[k.at + RAW]).toBe(k.n & 0xff);
      expect(k.buf[k.at + RAW + 1]).toBe((k.n >> 8) & 0xff);
      expect(k.buf[k.at + HDR]).toBe(1);
    }
  });
});
