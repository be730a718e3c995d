/** Reading a recorded kernel trace back with nstrace's reader, for the recorder tests. */
import { TraceSet } from '../../src/ctf/reader.js';

export interface Ev {
  name: string;
  ts: number;
  ctx: Record<string, string>;
  f: Record<string, string>;
}

function text(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8').replace(/\0+$/, '');
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  return String(v);
}

/** Every event of the trace (stream context and payload fields by name, as strings). */
export function readEvents(dir: string): Ev[] {
  const ts = TraceSet.open([dir]);
  const out: Ev[] = [];
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind !== 'event') continue;
      const ctx: Record<string, string> = {};
      const sc = r.stream.streamClass.eventContext;
      sc?.fields.forEach((fd, i) => (ctx[fd.name.replace(/^_/, '')] = text(r.streamContext![i])));
      const f: Record<string, string> = {};
      r.eventClass.fields?.fields.forEach((fd, i) => (f[fd.name.replace(/^_/, '')] = text(r.payload![i])));
      out.push({ name: r.eventClass.name, ts: r.ts, ctx, f });
    }
  } finally {
    ts.close();
  }
  return out;
}
