/**
 * The nstrace side of the reader differential test: the same JSON lines as bt2dump.py, built
 * from nstrace's reader, so that two independent decoders can be compared value by value.
 */
import type { FieldValue, StreamInstance, TraceRecord } from '../../src/ctf/event.js';
import { absoluteNs, byteStringToText } from '../../src/ctf/event.js';
import type { FieldClass, StructFC } from '../../src/ctf/ir.js';
import type { TraceSet } from '../../src/ctf/reader.js';
import { type Vis, traceVisibility } from '../../src/ctf/visibility.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** babeltrace2 drops one leading underscore of CTF 1.8 field names. */
export function irName(name: string): string {
  return name.startsWith('_') ? name.slice(1) : name;
}

function integer(v: number | bigint): Json {
  if (typeof v === 'bigint') {
    return v > 9007199254740991n || v < -9007199254740991n ? { big: v.toString() } : Number(v);
  }
  return v;
}

function value(fc: FieldClass, v: FieldValue, vis: Vis): Json {
  switch (fc.kind) {
    case 'int':
    case 'enum':
      return integer(v as number | bigint);
    case 'float':
      return { float: String(v) };
    case 'string':
      return byteStringToText(v as string);
    case 'struct':
      return struct(fc, v as FieldValue[], vis);
    case 'variant': {
      const vv = v as { option: number; value: FieldValue };
      return {
        option: vv.option,
        value: value(fc.options[vv.option]!.type, vv.value, vis.members![vv.option]!),
      };
    }
    case 'array':
    case 'sequence':
      if (typeof v === 'string') return byteStringToText(v);
      return (v as FieldValue[]).map((e) => value(fc.element, e, vis.element!));
  }
}

function struct(fc: StructFC, vals: FieldValue[], vis: Vis): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  fc.fields.forEach((f, i) => {
    if (vis.members![i]!.shown) out[irName(f.name)] = value(f.type, vals[i]!, vis.members![i]!);
  });
  return out;
}

/**
 * babeltrace2's python bindings name an auto-discovered trace by its `hostname` only (the CLI
 * appends the path below the input directory, which nstrace does too and the print tests
 * check), so the dump uses the hostname.
 */
function streamId(s: StreamInstance): Json {
  const host = s.trace.cls.env.get('hostname');
  return { trace: typeof host === 'string' ? host : '', class: s.streamClass.id, id: s.id };
}

/** Dumps up to `limit` records (0: all) as JSON lines. */
export function dumpTraceSet(ts: TraceSet, limit: number): string[] {
  const vis = new Map(ts.traces.map((t) => [t, traceVisibility(t.cls)]));
  const lines: string[] = [];
  for (let r: TraceRecord | null = ts.next(); r !== null; r = ts.next()) {
    const tv = vis.get(r.stream.trace)!;
    if (r.kind === 'event') {
      const ec = r.eventClass;
      const sc = r.stream.streamClass;
      const rec: { [k: string]: Json } = {
        ns: r.stream.clock === undefined ? null : absoluteNs(ts.base, r.ts).toString(),
        name: ec.name,
        stream: streamId(r.stream),
      };
      const pv = tv.packetContext.get(sc);
      if (pv?.shown && r.packet.context) rec.packet = struct(sc.packetContext!, r.packet.context, pv);
      const sv = tv.streamEventContext.get(sc);
      if (sv?.shown && r.streamContext) rec.sctx = struct(sc.eventContext!, r.streamContext, sv);
      const cv = tv.eventContext.get(ec);
      if (cv?.shown && r.context) rec.ctx = struct(ec.context!, r.context, cv);
      const fv = tv.payload.get(ec);
      if (fv?.shown && r.payload) rec.payload = struct(ec.fields!, r.payload, fv);
      lines.push(JSON.stringify(rec));
    } else {
      lines.push(
        JSON.stringify({
          kind: r.kind,
          count: r.count ?? null,
          stream: streamId(r.stream),
          begin: r.beginTs === undefined ? null : absoluteNs(ts.base, r.beginTs).toString(),
          end: r.endTs === undefined ? null : absoluteNs(ts.base, r.endTs).toString(),
        }),
      );
    }
    if (limit > 0 && lines.length >= limit) break;
  }
  return lines;
}
