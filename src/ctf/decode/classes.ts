/**
 * Questions the decoder compiler asks of field classes before emitting code: reader meanings,
 * reference keys and slots, the compile environment, integer-like fields, and static sizes and
 * alignments.
 */
import type { ClockClass, EnumFC, FieldClass, FieldRef, IntegerFC, Scope, StructFC } from '../ir.js';
import { scalarBits } from '../ir.js';

/** What a field means to the reader (babeltrace2's "meanings"), by scope and name. */
export type Meaning =
  | 'magic'
  | 'streamClassId'
  | 'instanceId'
  | 'packetSize'
  | 'contentSize'
  | 'tsBegin'
  | 'tsEnd'
  | 'discarded'
  | 'seqNum'
  | 'id';

export function meaningOf(scope: Scope, path: readonly string[], fc: FieldClass): Meaning | undefined {
  if (fc.kind !== 'int' && fc.kind !== 'enum') return undefined;
  const name = path[path.length - 1];
  if (scope === 'trace.packet.header' && path.length === 1) {
    if (name === 'magic') return 'magic';
    if (name === 'stream_id') return 'streamClassId';
    if (name === 'stream_instance_id') return 'instanceId';
  } else if (scope === 'stream.packet.context' && path.length === 1) {
    switch (name) {
      case 'timestamp_begin':
        return 'tsBegin';
      case 'timestamp_end':
        return 'tsEnd';
      case 'events_discarded':
        return 'discarded';
      case 'packet_seq_num':
        return 'seqNum';
      case 'packet_size':
        return 'packetSize';
      case 'content_size':
        return 'contentSize';
    }
  } else if (scope === 'stream.event.header' && name === 'id') {
    return 'id';
  }
  return undefined;
}

export function refKey(scope: Scope, path: readonly string[]): string {
  return scope + '\u0000' + path.join('\u0000');
}

/**
 * The key of the field at an emitter path: `[]` (an array or sequence element) is not part of
 * a reference's path, so a field inside an element has the key its element-local references use.
 */
export function slotKey(scope: Scope, path: readonly string[]): string {
  return refKey(
    scope,
    path.filter((p) => p !== '[]'),
  );
}

/**
 * Everything a compilation needs to know beyond the class being compiled: which fields are
 * referenced (and their classes, for variant tags), and which clock each integer maps to.
 */
export interface CompileEnv {
  /** Slot of each referenced field, by `refKey`. */
  readonly slots: Map<string, number>;
  /** Class of every field that can be referenced, by `refKey`. */
  readonly classes: Map<string, FieldClass>;
  /** Clock classes by name (including an implicit `default` one if the trace needs it). */
  readonly clocks: ReadonlyMap<string, ClockClass>;
  /**
   * Name of the clock an unmapped integer at (scope, path) implicitly maps to, if any
   * (babeltrace2 maps `timestamp` / `timestamp_begin` / `timestamp_end` to the trace's only clock).
   */
  implicitClock(scope: Scope, path: readonly string[], fc: IntegerFC): string | undefined;
}

/** Field classes by path within a scope root, for reference resolution. */
export function collectClasses(
  scope: Scope,
  root: StructFC | undefined,
  into: Map<string, FieldClass>,
): void {
  if (root === undefined) return;
  // Fields inside array and sequence elements are keyed without the element (see `slotKey`):
  // only references from inside the same element can reach them.
  const below = (fc: FieldClass, path: string[]): void => {
    if (fc.kind === 'struct') {
      for (const f of fc.fields) walk(f.type, [...path, f.name]);
    } else if (fc.kind === 'variant') {
      for (const o of fc.options) walk(o.type, [...path, o.name]);
    } else if (fc.kind === 'array' || fc.kind === 'sequence') {
      below(fc.element, path);
    }
  };
  const walk = (fc: FieldClass, path: string[]): void => {
    into.set(refKey(scope, path), fc);
    below(fc, path);
  };
  for (const f of root.fields) walk(f.type, [f.name]);
}

/** Every field reference (sequence length, variant tag) used in a scope root. */
export function collectRefs(root: StructFC | undefined, into: FieldRef[]): void {
  if (root === undefined) return;
  const walk = (fc: FieldClass): void => {
    switch (fc.kind) {
      case 'struct':
        for (const f of fc.fields) walk(f.type);
        break;
      case 'variant':
        into.push(fc.tag);
        for (const o of fc.options) walk(o.type);
        break;
      case 'array':
        walk(fc.element);
        break;
      case 'sequence':
        into.push(fc.length);
        walk(fc.element);
        break;
      default:
        break;
    }
  };
  walk(root);
}

/** Minimum size in bits of a field of this class (for sanity checks on lengths). */
export function minBits(fc: FieldClass): number {
  switch (fc.kind) {
    case 'string':
      return 8;
    case 'struct':
      return fc.fields.reduce((n, f) => n + minBits(f.type), 0);
    case 'variant':
      return fc.options.length === 0 ? 0 : Math.min(...fc.options.map((o) => minBits(o.type)));
    case 'array':
      return fc.length * minBits(fc.element);
    case 'sequence':
      return 0;
    default:
      return scalarBits(fc);
  }
}

/** Size in bits of a field of this class when it is always the same, else -1. */
export function fixedBits(fc: FieldClass): number {
  switch (fc.kind) {
    case 'struct': {
      // Only when no member needs padding that depends on the position.
      let n = 0;
      for (const f of fc.fields) {
        const b = fixedBits(f.type);
        if (b < 0 || f.type.align > 8 || b % 8 !== 0) return -1;
        n += b;
      }
      return fc.align > 8 ? -1 : n;
    }
    case 'array': {
      const b = fixedBits(fc.element);
      return b < 0 ? -1 : b * fc.length;
    }
    default:
      return scalarBits(fc);
  }
}

/**
 * Size in bits of a struct decoded from a position aligned to its own alignment when every
 * member has a fixed size (alignment padding included), else -1.
 */
export function fixedLayoutBits(s: StructFC): number {
  let off = 0;
  for (const f of s.fields) {
    const b = fixedBits(f.type);
    if (b < 0) return -1;
    const a = f.type.align;
    off = Math.ceil(off / a) * a + b;
  }
  return off;
}

/** Largest alignment (bits) used anywhere in a class. */
export function maxAlign(fc: FieldClass | undefined): number {
  if (fc === undefined) return 1;
  switch (fc.kind) {
    case 'struct':
      return Math.max(fc.align, ...fc.fields.map((f) => maxAlign(f.type)));
    case 'variant':
      return Math.max(1, ...fc.options.map((o) => maxAlign(o.type)));
    case 'array':
    case 'sequence':
      return Math.max(fc.align, maxAlign(fc.element));
    case 'enum':
      return fc.container.align;
    default:
      return fc.align;
  }
}

export function isTextElement(fc: FieldClass): fc is IntegerFC {
  return fc.kind === 'int' && fc.size === 8 && fc.encoding !== 'none';
}

/** The class of the member `name` of a struct (not looking into nested structs). */
export function topField(s: StructFC | undefined, name: string): FieldClass | undefined {
  return s?.fields.find((f) => f.name === name)?.type;
}

export function isIntLike(fc: FieldClass | undefined): fc is IntegerFC | EnumFC {
  return fc !== undefined && (fc.kind === 'int' || fc.kind === 'enum');
}

/** The integer class of an integer or enumeration (undefined for the other kinds). */
export function intOf(fc: FieldClass): IntegerFC | undefined {
  if (fc.kind === 'int') return fc;
  if (fc.kind === 'enum') return fc.container;
  return undefined;
}
