/**
 * Which decoded fields babeltrace2 shows. babeltrace2 translates CTF 1.8 into its own trace IR
 * and leaves out the fields that only serve the decoder: the trace packet header and the event
 * header entirely, and any integer that maps to a clock or has a special meaning
 * (`timestamp_begin`, `timestamp_end`, `content_size`, `packet_size`, `events_discarded`,
 * `packet_seq_num`) unless a sequence or variant uses it as its length or tag. A structure is
 * shown when one of its members is (or when it was empty in the metadata); a variant with one
 * shown option shows all its options. Printers and differential tests use this to present
 * exactly what babeltrace2 presents.
 */
import type { EventClass, FieldClass, Scope, StreamClass, StructFC, TraceClass } from './ir.js';
import { PACKET_CONTEXT_FIELDS } from './ir.js';
import { refKey } from './decode/classes.js';

/** Visibility of one field: its own flag and, for compounds, its children's. */
export interface Vis {
  readonly shown: boolean;
  /** Struct members or variant options, in order. */
  readonly members?: readonly Vis[];
  /** Array or sequence element. */
  readonly element?: Vis;
}

interface MutVis {
  shown: boolean;
  members?: MutVis[];
  element?: MutVis;
}

export interface TraceVisibility {
  readonly packetContext: ReadonlyMap<StreamClass, Vis>;
  readonly streamEventContext: ReadonlyMap<StreamClass, Vis>;
  readonly eventContext: ReadonlyMap<EventClass, Vis>;
  readonly payload: ReadonlyMap<EventClass, Vis>;
}

const PACKET_CONTEXT_MEANINGS = new Set(PACKET_CONTEXT_FIELDS);

function hasMeaning(scope: Scope, path: readonly string[]): boolean {
  return scope === 'stream.packet.context' && path.length === 1 && PACKET_CONTEXT_MEANINGS.has(path[0]!);
}

function update(
  fc: FieldClass,
  scope: Scope,
  path: string[],
  dependents: Set<string>,
  eventPrefix: string,
): MutVis {
  const key = (s: Scope, p: readonly string[]): string =>
    (s === 'event.context' || s === 'event.fields' ? eventPrefix : '') + refKey(s, p);
  switch (fc.kind) {
    case 'int':
    case 'enum': {
      const i = fc.kind === 'int' ? fc : fc.container;
      const shown =
        (i.mappedClock === undefined && !hasMeaning(scope, path)) || dependents.has(key(scope, path));
      return { shown };
    }
    case 'struct': {
      const members: MutVis[] = new Array(fc.fields.length);
      let shown = fc.fields.length === 0;
      for (let i = fc.fields.length - 1; i >= 0; i--) {
        const f = fc.fields[i]!;
        const v = update(f.type, scope, [...path, f.name], dependents, eventPrefix);
        members[i] = v;
        if (v.shown) shown = true;
      }
      return { shown, members };
    }
    case 'variant': {
      const members: MutVis[] = new Array(fc.options.length);
      let shown = false;
      for (let i = fc.options.length - 1; i >= 0; i--) {
        const o = fc.options[i]!;
        const v = update(o.type, scope, [...path, o.name], dependents, eventPrefix);
        members[i] = v;
        if (v.shown) shown = true;
      }
      if (shown) {
        for (const m of members) m.shown = true;
        dependents.add(key(fc.tag.scope, fc.tag.path));
      }
      return { shown, members };
    }
    case 'array':
    case 'sequence': {
      const element = update(fc.element, scope, [...path, '[]'], dependents, eventPrefix);
      const shown = element.shown;
      if (fc.kind === 'sequence' && shown) dependents.add(key(fc.length.scope, fc.length.path));
      return { shown, element };
    }
    default:
      return { shown: true };
  }
}

function root(s: StructFC | undefined, scope: Scope, deps: Set<string>, prefix: string): MutVis | undefined {
  return s === undefined ? undefined : update(s, scope, [], deps, prefix);
}

/** Computes what babeltrace2 shows of every scope of a trace class. */
export function traceVisibility(cls: TraceClass): TraceVisibility {
  const packetContext = new Map<StreamClass, Vis>();
  const streamEventContext = new Map<StreamClass, Vis>();
  const eventContext = new Map<EventClass, Vis>();
  const payload = new Map<EventClass, Vis>();
  for (const sc of cls.streamClasses.values()) {
    // Dependents are per stream class: stream-level paths of two classes are different fields.
    const deps = new Set<string>();
    // Event classes first: their sequences and variants may use stream-level fields.
    for (const ec of sc.eventClasses.values()) {
      const prefix = `${sc.id}/${ec.id}\u0001`;
      const p = root(ec.fields, 'event.fields', deps, prefix);
      if (p) payload.set(ec, p);
      const c = root(ec.context, 'event.context', deps, prefix);
      if (c) eventContext.set(ec, c);
    }
    const sec = root(sc.eventContext, 'stream.event.context', deps, '');
    if (sec) streamEventContext.set(sc, sec);
    const pc = root(sc.packetContext, 'stream.packet.context', deps, '');
    if (pc) packetContext.set(sc, pc);
  }
  return { packetContext, streamEventContext, eventContext, payload };
}
