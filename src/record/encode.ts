/**
 * Encoder of event payloads from JS values, for the events the recorder makes itself
 * (statedump, containers): not on the hot path, so a simple interpreter over type codes.
 */
import { parseTypeCode } from './types.js';

export type SimpleValue = number | bigint | string | readonly number[];

const enc = new TextEncoder();

/** Upper bound of the encoded size of `values` with `codes`. */
export function encodedSizeBound(codes: readonly string[], values: readonly SimpleValue[]): number {
  let n = 0;
  for (let i = 0; i < codes.length; i++) {
    const t = parseTypeCode(codes[i]!);
    const v = values[i];
    if (t.fixedSize >= 0) n += t.fixedSize;
    else if (t.kind === 'string') n += (typeof v === 'string' ? v.length * 3 : 0) + 1;
    else if (t.kind === 'seq') n += t.lengthBits! / 8 + (Array.isArray(v) ? v.length : 0) * (t.int!.size / 8);
  }
  return n;
}

function writeInt(dv: DataView, o: number, size: number, v: number | bigint, le: boolean): void {
  switch (size) {
    case 8:
      dv.setUint8(o, Number(BigInt.asUintN(8, BigInt(v))));
      return;
    case 16:
      dv.setUint16(o, Number(BigInt.asUintN(16, BigInt(v))), le);
      return;
    case 32:
      dv.setUint32(o, Number(BigInt.asUintN(32, BigInt(v))), le);
      return;
    default:
      dv.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), le);
  }
}

/** Writes `values` (one per code) at `o`; returns the position after them. */
export function encodeValues(
  codes: readonly string[],
  values: readonly SimpleValue[],
  dv: DataView,
  du: Uint8Array,
  o: number,
): number {
  for (let i = 0; i < codes.length; i++) {
    const t = parseTypeCode(codes[i]!);
    const v = values[i];
    switch (t.kind) {
      case 'int': {
        const x = typeof v === 'number' || typeof v === 'bigint' ? v : 0;
        writeInt(dv, o, t.int!.size, typeof x === 'number' ? Math.trunc(x) : x, !t.int!.bigEndian);
        o += t.int!.size / 8;
        break;
      }
      case 'string': {
        const b = enc.encode(typeof v === 'string' ? v : '');
        let n = b.indexOf(0);
        if (n < 0) n = b.length;
        du.set(b.subarray(0, n), o);
        o += n;
        du[o++] = 0;
        break;
      }
      case 'text': {
        const n = t.length!;
        const b = enc.encode(typeof v === 'string' ? v : '');
        du.fill(0, o, o + n);
        du.set(b.subarray(0, Math.min(n - 1, b.length)), o);
        o += n;
        break;
      }
      case 'intarray': {
        const arr = Array.isArray(v) ? v : [];
        for (let k = 0; k < t.length!; k++) {
          writeInt(dv, o, t.int!.size, arr[k] ?? 0, !t.int!.bigEndian);
          o += t.int!.size / 8;
        }
        break;
      }
      case 'seq': {
        const arr = Array.isArray(v) ? v : [];
        writeInt(dv, o, t.lengthBits!, arr.length, true);
        o += t.lengthBits! / 8;
        for (const x of arr) {
          writeInt(dv, o, t.int!.size, x, !t.int!.bigEndian);
          o += t.int!.size / 8;
        }
        break;
      }
    }
  }
  return o;
}
