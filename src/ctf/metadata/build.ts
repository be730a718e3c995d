/**
 * Phase B of metadata resolution (see resolve.ts): once every block is read, places the scope
 * structures in decoding order (`instantiate.ts`) per stream and event class, and checks the
 * cross-block rules (stream ids, event ids, the fields with a special meaning).
 */
import type {
  ByteOrder,
  Callsite,
  ClockClass,
  EnvValue,
  EventClass,
  Scope,
  StreamClass,
  StructFC,
  TraceClass,
} from '../ir.js';
import { PACKET_CONTEXT_FIELDS } from '../ir.js';
import type { Loc } from './ast.js';
import { describeType, type DStruct, type DType } from './dtypes.js';
import { Instantiator } from './instantiate.js';
import type { TypeBuilder } from './types.js';

export interface TraceRec {
  major: number;
  minor: number;
  uuid?: Uint8Array;
  packetHeader?: DStruct;
  loc: Loc;
}

export interface StreamRec {
  id?: number;
  packetContext?: DStruct;
  eventHeader?: DStruct;
  eventContext?: DStruct;
  loc: Loc;
}

export interface EventRec {
  name?: string;
  id?: number;
  idLoc?: Loc;
  streamId?: number;
  streamIdLoc?: Loc;
  logLevel?: number;
  emfUri?: string;
  context?: DStruct;
  fields?: DStruct;
  loc: Loc;
}

/** What phase A read from the blocks. */
export interface Blocks {
  readonly trace: TraceRec;
  readonly env: Map<string, EnvValue> | undefined;
  readonly clocks: Map<string, ClockClass>;
  readonly streams: readonly StreamRec[];
  readonly events: readonly EventRec[];
  readonly callsites: Callsite[];
  /** The trace's byte order. */
  readonly byteOrder: ByteOrder;
}

/** Places the scope structures of every stream and event class and checks the cross-block rules. */
export function buildTraceClass(blocks: Blocks, b: TypeBuilder): TraceClass {
  const trace = blocks.trace;
  const inst = new Instantiator(b);

  // Stream ids.
  const streams = blocks.streams;
  if (streams.length > 1) {
    for (const s of streams) {
      if (s.id === undefined)
        throw b.error(s.loc, "stream block has no 'id' attribute, but the trace has several streams");
    }
    if (trace.packetHeader === undefined || !trace.packetHeader.fields.some((f) => f.name === 'stream_id')) {
      throw b.error(
        trace.loc,
        "the trace has several streams, so its packet header needs a 'stream_id' field",
      );
    }
  }
  const byId = new Map<number, StreamRec>();
  for (const s of streams) {
    const id = s.id ?? 0;
    if (byId.has(id)) throw b.error(s.loc, `duplicate stream id ${id}`);
    byId.set(id, s);
  }

  // Events to streams.
  const eventsOf = new Map<number, EventRec[]>();
  for (const e of blocks.events) {
    let sid: number;
    if (e.streamId !== undefined) {
      if (!byId.has(e.streamId)) {
        if (streams.length > 0 || e.streamId !== 0) {
          throw b.error(
            e.streamIdLoc!,
            `event '${e.name}' refers to stream ${e.streamId}, which is not declared`,
          );
        }
      }
      sid = e.streamId;
    } else {
      if (streams.length > 1) {
        throw b.error(
          e.loc,
          `event '${e.name}' has no 'stream_id' attribute, but the trace has several streams`,
        );
      }
      sid = streams.length === 1 ? (streams[0]!.id ?? 0) : 0;
    }
    if (!byId.has(sid)) byId.set(sid, { id: sid, loc: e.loc }); // implicit stream class
    let list = eventsOf.get(sid);
    if (list === undefined) eventsOf.set(sid, (list = []));
    list.push(e);
  }

  // Scopes.
  let packetHeader: StructFC | undefined;
  const traceRoots = new Map<Scope, DStruct>();
  if (trace.packetHeader !== undefined) {
    checkMeanings(b, trace.packetHeader, 'trace.packet.header');
    traceRoots.set('trace.packet.header', trace.packetHeader);
    packetHeader = inst.root(trace.packetHeader, 'trace.packet.header', traceRoots);
  }
  const streamClasses = new Map<number, StreamClass>();
  for (const [sid, s] of byId) {
    const roots = new Map(traceRoots);
    const place = (d: DStruct | undefined, scope: Scope): StructFC | undefined => {
      if (d === undefined) return undefined;
      checkMeanings(b, d, scope);
      roots.set(scope, d);
      return inst.root(d, scope, roots);
    };
    const packetContext = place(s.packetContext, 'stream.packet.context');
    const eventHeader = place(s.eventHeader, 'stream.event.header');
    const eventContext = place(s.eventContext, 'stream.event.context');
    const events = eventsOf.get(sid) ?? [];
    const seen = new Set<number>();
    for (const e of events) {
      const id = e.id ?? 0;
      if (seen.has(id))
        throw b.error(e.idLoc ?? e.loc, `duplicate event id ${id} in stream ${sid} (event '${e.name}')`);
      seen.add(id);
    }
    if (
      events.length > 1 &&
      (s.eventHeader === undefined || !s.eventHeader.fields.some((f) => f.name === 'id'))
    ) {
      throw b.error(
        s.loc,
        `stream ${sid} has ${events.length} event classes but its event header has no 'id' field`,
      );
    }
    const eventClasses = new Map<number, EventClass>();
    for (const e of events) {
      const id = e.id ?? 0;
      // The scope roots available to this event: the stream's, then its own.
      roots.delete('event.context');
      roots.delete('event.fields');
      let context: StructFC | undefined;
      let fields: StructFC | undefined;
      if (e.context !== undefined) {
        roots.set('event.context', e.context);
        context = inst.root(e.context, 'event.context', roots);
      }
      if (e.fields !== undefined) {
        roots.set('event.fields', e.fields);
        fields = inst.root(e.fields, 'event.fields', roots);
      }
      const ec: { -readonly [K in keyof EventClass]: EventClass[K] } = {
        id,
        name: e.name!,
        streamClassId: sid,
      };
      if (context !== undefined) ec.context = context;
      if (fields !== undefined) ec.fields = fields;
      if (e.logLevel !== undefined) ec.logLevel = e.logLevel;
      if (e.emfUri !== undefined) ec.emfUri = e.emfUri;
      eventClasses.set(id, ec);
    }
    streamClasses.set(sid, {
      id: sid,
      ...(packetContext === undefined ? {} : { packetContext }),
      ...(eventHeader === undefined ? {} : { eventHeader }),
      ...(eventContext === undefined ? {} : { eventContext }),
      eventClasses,
    });
  }

  return {
    major: 1,
    minor: 8,
    byteOrder: blocks.byteOrder,
    ...(trace.uuid === undefined ? {} : { uuid: trace.uuid }),
    ...(packetHeader === undefined ? {} : { packetHeader }),
    env: blocks.env ?? new Map(),
    clocks: blocks.clocks,
    streamClasses,
    callsites: blocks.callsites,
  };
}

/**
 * Fields with a meaning for the reader (CTF 1.8 §5, §6.1) must have the type that meaning
 * needs; they are checked at the top level of their scope only, as babeltrace does.
 */
function checkMeanings(b: TypeBuilder, root: DStruct, scope: Scope): void {
  const uint = (name: string, size?: number): void => {
    const f = root.fields.find((x) => x.name === name);
    if (f === undefined) return;
    const t = f.type;
    const ok = t.kind === 'int' && !t.signed && (size === undefined || t.size === size);
    if (!ok) {
      throw b.error(
        f.loc,
        `'${name}' in ${scope} must be an unsigned${size === undefined ? '' : ` ${size}-bit`} integer, not a ${describeType(t)}`,
      );
    }
  };
  switch (scope) {
    case 'trace.packet.header': {
      uint('magic', 32);
      const magic = root.fields.findIndex((x) => x.name === 'magic');
      if (magic > 0)
        throw b.error(root.fields[magic]!.loc, "'magic' must be the first field of trace.packet.header");
      uint('stream_id');
      uint('stream_instance_id');
      const u = root.fields.find((x) => x.name === 'uuid');
      if (u !== undefined && !isUuidArray(u.type)) {
        throw b.error(u.loc, `'uuid' in trace.packet.header must be an array of 16 unsigned 8-bit integers`);
      }
      break;
    }
    case 'stream.packet.context':
      for (const n of PACKET_CONTEXT_FIELDS) uint(n);
      break;
    case 'stream.event.header': {
      const id = root.fields.find((x) => x.name === 'id');
      if (id !== undefined) {
        const t = id.type;
        const int = t.kind === 'int' ? t : t.kind === 'enum' ? t.container : undefined;
        if (int === undefined || int.signed) {
          throw b.error(
            id.loc,
            `'id' in stream.event.header must be an unsigned integer or enumeration, not a ${describeType(t)}`,
          );
        }
      }
      break;
    }
    default:
      break;
  }
}

function isUuidArray(t: DType): boolean {
  return (
    t.kind === 'array' &&
    t.length === 16 &&
    t.element.kind === 'int' &&
    t.element.size === 8 &&
    !t.element.signed
  );
}
