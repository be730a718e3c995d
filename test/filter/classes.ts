/**
 * Small builders of CTF classes and records for the filter tests (the same shapes the CTF reader
 * produces: see src/ctf/ir.ts and src/ctf/event.ts).
 */
import type { EventRecord, FieldValue, PacketInfo, StreamInstance } from '../../src/ctf/event.js';
import type {
  ArrayFC,
  EnumFC,
  EventClass,
  FieldClass,
  FloatFC,
  IntegerFC,
  NamedField,
  SequenceFC,
  StreamClass,
  StringFC,
  StructFC,
  VariantFC,
} from '../../src/ctf/ir.js';

export function int(size: number, signed: boolean, encoding: 'none' | 'utf8' = 'none'): IntegerFC {
  return { kind: 'int', size, align: 8, signed, byteOrder: 'le', base: 10, encoding };
}
export const s8 = int(8, true);
export const u8 = int(8, false);
export const s32 = int(32, true);
export const u32 = int(32, false);
export const s64 = int(64, true);
export const u64 = int(64, false);
export const f64: FloatFC = { kind: 'float', expDig: 11, mantDig: 53, align: 8, byteOrder: 'le' };
export const f32: FloatFC = { kind: 'float', expDig: 8, mantDig: 24, align: 8, byteOrder: 'le' };
export const str: StringFC = { kind: 'string', encoding: 'utf8', align: 8 };
export const char = int(8, true, 'utf8');

export function array(element: FieldClass, length: number): ArrayFC {
  return { kind: 'array', length, element, align: 8 };
}
export function sequence(element: FieldClass, lengthName: string): SequenceFC {
  return {
    kind: 'sequence',
    length: { scope: 'event.fields', path: [lengthName], text: lengthName },
    element,
    align: 8,
  };
}
export function enumOf(container: IntegerFC, labels: Record<string, [number, number]>): EnumFC {
  return {
    kind: 'enum',
    container,
    mappings: Object.entries(labels).map(([label, [lo, hi]]) => ({
      label,
      ranges: [[BigInt(lo), BigInt(hi)]],
    })),
    align: 8,
  };
}
export function struct(fields: Record<string, FieldClass>): StructFC {
  const nf: NamedField[] = Object.entries(fields).map(([name, type]) => ({ name, type }));
  return { kind: 'struct', fields: nf, minAlign: 1, align: 8 };
}
export function variant(tag: string, options: Record<string, FieldClass>): VariantFC {
  return {
    kind: 'variant',
    tag: { scope: 'stream.event.context', path: [tag], text: tag },
    options: Object.entries(options).map(([name, type]) => ({ name, type })),
    align: 1,
  };
}

/** The dynamic type LTTng gives app contexts. */
export const appContextVariant = variant('__app_tag', {
  _none: struct({}),
  _int8: int(8, true),
  _int16: int(16, true),
  _int32: int(32, true),
  _int64: int(64, true),
  _uint8: int(8, false),
  _uint16: int(16, false),
  _uint32: int(32, false),
  _uint64: int(64, false),
  _float: f32,
  _double: f64,
  _string: str,
});

let nextId = 0;

export function eventClass(
  name: string,
  fields: Record<string, FieldClass> | undefined,
  context?: Record<string, FieldClass>,
): EventClass {
  return {
    id: nextId++,
    name,
    streamClassId: 0,
    ...(fields === undefined ? {} : { fields: struct(fields) }),
    ...(context === undefined ? {} : { context: struct(context) }),
  };
}

export function streamClass(
  eventClasses: EventClass[],
  eventContext?: Record<string, FieldClass>,
  packetContext?: Record<string, FieldClass>,
): StreamClass {
  return {
    id: 0,
    eventClasses: new Map(eventClasses.map((e) => [e.id, e])),
    ...(eventContext === undefined ? {} : { eventContext: struct(eventContext) }),
    ...(packetContext === undefined ? {} : { packetContext: struct(packetContext) }),
  };
}

let streamIndex = 0;

export function streamInstance(sc: StreamClass): StreamInstance {
  return {
    trace: { path: '/t', name: 't', metadataPath: '/t/metadata', cls: undefined as never },
    streamClass: sc,
    instanceId: undefined,
    id: 0,
    files: [],
    clock: undefined,
    index: streamIndex++,
  };
}

export function record(
  ec: EventClass,
  stream: StreamInstance,
  payload: FieldValue[] | undefined,
  streamContext?: FieldValue[],
  packetContext?: FieldValue[],
): EventRecord {
  const packet: PacketInfo = {
    stream,
    file: '',
    offset: 0,
    packetSize: 0,
    contentSize: 0,
    header: undefined,
    context: packetContext,
    beginCycles: undefined,
    endCycles: undefined,
    beginTs: undefined,
    endTs: undefined,
    discardedEventsCounter: undefined,
    seqNum: undefined,
  };
  return {
    kind: 'event',
    eventClass: ec,
    classKey: classKeys.get(ec) ?? 0,
    stream,
    packet,
    cycles: 0,
    ts: 0,
    header: undefined,
    streamContext,
    context: undefined,
    payload,
  };
}

const classKeys = new WeakMap<EventClass, number>();

/** A trace set over these stream classes, with dense event-class keys (as the reader makes). */
export function traceSet(streamClasses: StreamClass[]): {
  eventClasses: { key: number; eventClass: EventClass; streamClass: StreamClass }[];
} {
  const eventClasses: { key: number; eventClass: EventClass; streamClass: StreamClass }[] = [];
  for (const sc of streamClasses) {
    for (const ec of sc.eventClasses.values()) {
      classKeys.set(ec, eventClasses.length);
      eventClasses.push({ key: eventClasses.length, eventClass: ec, streamClass: sc });
    }
  }
  return { eventClasses };
}
