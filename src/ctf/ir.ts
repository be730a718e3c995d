/**
 * CTF 1.8 trace class model: what a TSDL metadata document describes, after parsing and
 * resolution (typealiases expanded, `native` byte order resolved, field paths resolved).
 *
 * The metadata parser produces it, the decoder compiles it into decode plans, the writer
 * emits TSDL from it, and the text printer formats values with it. All sizes and alignments
 * are in bits, as in TSDL.
 */

export type ByteOrder = 'le' | 'be';

/** Text encoding of an integer (for char arrays/sequences) or of a string. */
export type Encoding = 'none' | 'utf8' | 'ascii';

/** The six dynamic scopes of CTF 1.8, named as in TSDL absolute paths. */
export type Scope =
  | 'trace.packet.header'
  | 'stream.packet.context'
  | 'stream.event.header'
  | 'stream.event.context'
  | 'event.context'
  | 'event.fields';

/** Scopes in decoding order (also the order relative paths search outward, reversed). */
export const SCOPES: readonly Scope[] = [
  'trace.packet.header',
  'stream.packet.context',
  'stream.event.header',
  'stream.event.context',
  'event.context',
  'event.fields',
];

/**
 * A resolved reference to an integer or enum field (sequence length, variant tag).
 * `path` is the list of field names from the scope's root structure down to the field,
 * e.g. `{ scope: 'event.fields', path: ['_x_length'] }`. `text` is the path as written in
 * the metadata, kept for messages and for the writer.
 */
export interface FieldRef {
  readonly scope: Scope;
  readonly path: readonly string[];
  readonly text: string;
}

export interface IntegerFC {
  readonly kind: 'int';
  /** 1..64 bits. */
  readonly size: number;
  readonly align: number;
  readonly signed: boolean;
  readonly byteOrder: ByteOrder;
  readonly base: 2 | 8 | 10 | 16;
  readonly encoding: Encoding;
  /** Name of the clock class this integer maps to (`map = clock.NAME.value`). */
  readonly mappedClock?: string;
}

export interface FloatFC {
  readonly kind: 'float';
  readonly expDig: number;
  readonly mantDig: number;
  readonly align: number;
  readonly byteOrder: ByteOrder;
}

export interface StringFC {
  readonly kind: 'string';
  readonly encoding: Encoding;
  /** Always 8. */
  readonly align: number;
}

/** One enumeration label; `ranges` are inclusive [low, high] pairs in declaration order. */
export interface EnumMapping {
  readonly label: string;
  readonly ranges: ReadonlyArray<readonly [bigint, bigint]>;
}

export interface EnumFC {
  readonly kind: 'enum';
  readonly container: IntegerFC;
  /** In declaration order. */
  readonly mappings: readonly EnumMapping[];
  /** Same as the container's. */
  readonly align: number;
}

export interface NamedField {
  readonly name: string;
  readonly type: FieldClass;
}

export interface StructFC {
  readonly kind: 'struct';
  readonly fields: readonly NamedField[];
  /** `align(N)` attribute of the struct itself (1 when absent). */
  readonly minAlign: number;
  /** Effective alignment: max(minAlign, alignment of every field). */
  readonly align: number;
}

export interface VariantFC {
  readonly kind: 'variant';
  /** The enumeration field that selects the option (by label == option name). */
  readonly tag: FieldRef;
  readonly options: readonly NamedField[];
  /** Variants are not aligned themselves; the selected option is. Always 1. */
  readonly align: number;
}

export interface ArrayFC {
  readonly kind: 'array';
  readonly length: number;
  readonly element: FieldClass;
  /** The element's alignment. */
  readonly align: number;
}

export interface SequenceFC {
  readonly kind: 'sequence';
  /** The unsigned integer field that holds the length. */
  readonly length: FieldRef;
  readonly element: FieldClass;
  /** The element's alignment. */
  readonly align: number;
}

export type FieldClass =
  IntegerFC | FloatFC | StringFC | EnumFC | StructFC | VariantFC | ArrayFC | SequenceFC;

/** Size in bits of an integer, enumeration or floating-point class; -1 for the other kinds. */
export function scalarBits(fc: FieldClass): number {
  switch (fc.kind) {
    case 'int':
      return fc.size;
    case 'enum':
      return fc.container.size;
    case 'float':
      return fc.expDig + fc.mantDig;
    default:
      return -1;
  }
}

/** The class at `path` below `root` (paths go through array and sequence elements without naming them). */
export function classAtPath(root: StructFC | undefined, path: readonly string[]): FieldClass | undefined {
  let cur: FieldClass | undefined = root;
  for (const name of path) {
    while (cur !== undefined && (cur.kind === 'array' || cur.kind === 'sequence')) cur = cur.element;
    if (cur === undefined) return undefined;
    if (cur.kind === 'struct') cur = cur.fields.find((f) => f.name === name)?.type;
    else if (cur.kind === 'variant') cur = cur.options.find((f) => f.name === name)?.type;
    else return undefined;
  }
  return cur;
}

export interface ClockClass {
  readonly name: string;
  /** Cycles per second; 1e9 for LTTng. */
  readonly freq: number;
  /** Offset from the origin, whole seconds part (`offset_s`). */
  readonly offsetSeconds: number;
  /** Offset from the origin, cycles part (`offset`), may exceed `freq`. */
  readonly offsetCycles: number;
  readonly precision: number;
  /** The origin is the Unix epoch. */
  readonly absolute: boolean;
  readonly uuid?: Uint8Array;
  readonly description?: string;
}

export interface EventClass {
  /** Numeric id within its stream class (0 when the metadata gives none). */
  readonly id: number;
  readonly name: string;
  readonly streamClassId: number;
  readonly context?: StructFC;
  readonly fields?: StructFC;
  readonly logLevel?: number;
  readonly emfUri?: string;
}

export interface StreamClass {
  /** 0 when the metadata gives none. */
  readonly id: number;
  readonly packetContext?: StructFC;
  readonly eventHeader?: StructFC;
  readonly eventContext?: StructFC;
  /** By event-class id, in declaration order. */
  readonly eventClasses: ReadonlyMap<number, EventClass>;
}

export interface Callsite {
  readonly name: string;
  readonly func: string;
  readonly file: string;
  readonly line: number;
  readonly ip: bigint;
}

/** The value of one `env` entry: TSDL gives strings and integers. */
export type EnvValue = string | number | bigint;

export interface TraceClass {
  readonly major: number;
  readonly minor: number;
  readonly byteOrder: ByteOrder;
  readonly uuid?: Uint8Array;
  readonly packetHeader?: StructFC;
  /** In declaration order. */
  readonly env: ReadonlyMap<string, EnvValue>;
  /** By name, in declaration order. */
  readonly clocks: ReadonlyMap<string, ClockClass>;
  /** By stream-class id, in declaration order. */
  readonly streamClasses: ReadonlyMap<number, StreamClass>;
  readonly callsites: readonly Callsite[];
}

/** Fields of `stream.packet.context` with a meaning for the reader (CTF 1.8 §5), in spec order. */
export const PACKET_CONTEXT_FIELDS: readonly string[] = [
  'timestamp_begin',
  'timestamp_end',
  'content_size',
  'packet_size',
  'events_discarded',
  'packet_seq_num',
];
