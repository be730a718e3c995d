/**
 * Mutations of a trace directory, as plain JSON operations (so that a failure can be stored,
 * replayed and minimised), and the fast-check arbitraries that generate them.
 *
 * Four classes, one per mutant: the TSDL text (numbers, names, paths, inserted fields and
 * blocks, lines, characters; for packetized metadata the text is mutated and packetized
 * again), the stream bytes (integers with edge values at packet headers or anywhere, bit
 * flips, random bytes, cuts, copied chunks, dropped files), the framing of packetized metadata
 * (header fields, cuts), and `index/*.idx` files (header and entry fields, cuts).
 *
 * Operation parameters are plain numbers taken modulo what the seed has (its number of stream
 * files, packets, literals...), so the arbitraries need not know the seed.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { readMetadataBytes } from '../../src/ctf/metadata/packetized.js';
import { packetizeMetadata } from '../../src/ctf/writer/metadata.js';
import type { Seed } from './seeds.js';

export type MutationClass = 'tsdl' | 'stream' | 'packetized' | 'index';

/** Where in a file: `page` selects a 4096-byte page (LTTng packets start there), `off` a byte in it. */
export interface At {
  readonly page: number;
  readonly off: number;
  /** Anywhere in the file instead: fraction `frac / 2^20` of its size. */
  readonly frac?: number;
}

export type Op =
  | { readonly t: 'tsdl-num'; readonly k: number; readonly v: string }
  | { readonly t: 'tsdl-ident'; readonly k: number; readonly j: number }
  | { readonly t: 'tsdl-path'; readonly k: number; readonly v: string }
  | { readonly t: 'tsdl-field'; readonly k: number; readonly v: string }
  | { readonly t: 'tsdl-block'; readonly k: number; readonly v: string }
  | { readonly t: 'tsdl-line'; readonly op: 'del' | 'dup' | 'swap'; readonly k: number; readonly j: number }
  | { readonly t: 'tsdl-chars'; readonly k: number; readonly del: number; readonly v: string }
  | {
      readonly t: 'bytes-int';
      readonly f: number;
      readonly at: At;
      readonly width: 1 | 2 | 4 | 8;
      readonly le: boolean;
      readonly v: string;
    }
  | { readonly t: 'bytes-flip'; readonly f: number; readonly at: At; readonly bit: number }
  | { readonly t: 'bytes-rand'; readonly f: number; readonly at: At; readonly hex: string }
  | { readonly t: 'bytes-cut'; readonly f: number; readonly at: At }
  | { readonly t: 'bytes-copy'; readonly f: number; readonly from: At; readonly to: At; readonly len: number }
  | { readonly t: 'file-drop'; readonly f: number }
  | { readonly t: 'mpkt-field'; readonly p: number; readonly field: number; readonly v: string }
  | { readonly t: 'mpkt-cut'; readonly frac: number }
  | {
      readonly t: 'idx-field';
      readonly f: number;
      readonly entry: number;
      readonly field: number;
      readonly v: string;
    }
  | { readonly t: 'idx-cut'; readonly f: number; readonly frac: number };

export interface Mutant {
  /** Index of the seed in the seed list. */
  readonly seed: number;
  readonly cls: MutationClass;
  readonly ops: readonly Op[];
}

// ---- values ----------------------------------------------------------------------------------

const POW = (n: number): bigint => 1n << BigInt(n);
/** Integer edge values (stream bytes, index fields, packet headers); truncated to the width. */
export const EDGE_INTS: readonly string[] = [
  0n,
  1n,
  2n,
  3n,
  7n,
  8n,
  16n,
  31n,
  32n,
  63n,
  64n,
  127n,
  128n,
  255n,
  256n,
  4095n,
  4096n,
  32767n,
  32768n,
  65535n,
  65536n,
  POW(31) - 1n,
  POW(31),
  POW(32) - 1n,
  POW(32),
  POW(32) + 8n,
  POW(53),
  POW(53) + 1n,
  POW(63) - 1n,
  POW(63),
  POW(64) - 1n,
  0xc1fc1fc1n,
  0x75d11d57n,
].map(String);

/** Number literals for TSDL (sizes, alignments, ids, lengths, enum values, clock fields). */
const TSDL_NUMS: readonly string[] = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '7',
  '9',
  '16',
  '31',
  '33',
  '63',
  '64',
  '65',
  '128',
  '4096',
  '1048576',
  '1048577',
  '2097152',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '9223372036854775807',
  '-9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '340282366920938463463374607431768211456',
  '0x7fffffff',
  '0xffffffffffffffff',
  '0777',
  '08',
];

/** Field paths a sequence length or variant tag could name, right or wrong. */
const TSDL_PATHS: readonly string[] = [
  'trace.packet.header.magic',
  'trace.packet.header.stream_id',
  'trace.packet.header.uuid',
  'trace.packet.header.nope',
  'stream.packet.context.packet_size',
  'stream.packet.context.content_size',
  'stream.packet.context.timestamp_begin',
  'stream.event.header.id',
  'stream.event.header.v',
  'stream.event.header.v.extended.id',
  'stream.event.context',
  'event.context',
  'event.fields',
  'event.fields.fz_len',
  'stream_id',
  'magic',
  'id',
  'timestamp',
  'env.hostname',
  'env.nope',
  'clock.monotonic.value',
  'fz_len',
  'fz_tag',
  'trace',
];

/** Fields inserted into a structure body (before a closing brace). */
const TSDL_FIELDS: readonly string[] = [
  'integer { size = 8; align = 8; } fz_seq[trace.packet.header.magic];',
  'integer { size = 8; align = 8; } fz_seq[trace.packet.header.stream_id];',
  'integer { size = 8; align = 8; } fz_seq[stream_id];',
  'integer { size = 8; align = 8; } fz_seq[stream.packet.context.content_size];',
  'integer { size = 8; align = 8; } fz_seq[stream.event.header.id];',
  'integer { size = 32; align = 8; } fz_len; integer { size = 16; align = 8; } fz_seq[fz_len];',
  'struct { integer { size = 8; } l; string s[l]; } fz_arr[2];',
  'struct { integer { size = 8; } l; integer { size = 8; } d[l]; } fz_arr[3];',
  'enum : integer { size = 8; } { A, B = 5 ... 9, C } fz_tag; variant <fz_tag> { integer { size = 8; } A; string B; struct { } C; } fz_var;',
  'enum : integer { size = 2; } { A, B } fz_tag; struct { variant <fz_tag> { string A; integer { size = 64; } B; } v; } fz_in[4];',
  'variant <fz_tag> { integer { size = 8; } A; } fz_var2;',
  'variant <id> { integer { size = 8; } A; } fz_var3;',
  'integer { size = 64; align = 1048576; } fz_big;',
  'integer { size = 64; align = 2147483648; } fz_huge;',
  'integer { size = 7; align = 1; signed = true; } fz_bits;',
  'integer { size = 33; align = 1; byte_order = be; } fz_bits_be;',
  'integer { size = 64; align = 1; signed = true; byte_order = be; } fz_bits64;',
  'floating_point { exp_dig = 11; mant_dig = 53; align = 8; } fz_f;',
  'floating_point { exp_dig = 5; mant_dig = 11; align = 8; } fz_half;',
  'string fz_s;',
  'string { encoding = ASCII; } fz_s2;',
  'struct { } align(64) fz_empty;',
  'struct { } align(1048576) fz_empty_big[0];',
  'struct { } fz_nothing[4294967295];',
  'struct { } fz_nest[1000000][1000000];',
  'struct { struct { } e[fz_len]; } fz_nest2[65536];',
  'integer { size = 8; } fz_arr2[4294967295];',
  'integer { size = 8; } fz_arr3[4294967296];',
  'integer { size = 8; } fz_arr4[65536][65536];',
  'integer { size = 32; map = clock.monotonic.value; } fz_ts;',
  'integer { size = 64; map = clock.nope.value; } timestamp;',
  'integer { size = 8; encoding = UTF8; } fz_text[16];',
  'integer { size = 8; encoding = UTF8; } fz_text2[fz_len];',
  'integer { size = 8; } fz_seq2[env.nope];',
  'struct { integer { size = 8; } l; } fz_s3; integer { size = 8; } fz_seq3[fz_s3.l];',
  'struct { integer { size = 8; } l; } fz_s4[1]; integer { size = 8; } fz_seq4[fz_s4.l];',
  'integer { size = 64; } id;',
  'integer { size = 64; } packet_size;',
  'integer { size = 64; } content_size;',
  'integer { size = 32; } magic;',
  'integer { size = 64; } stream_id;',
  'integer { size = 64; } timestamp_end;',
  'integer { size = 64; } events_discarded;',
  'integer { size = 64; } packet_seq_num;',
];

/** Top-level blocks inserted at a block boundary. */
const TSDL_BLOCKS: readonly string[] = [
  'stream { id = 99; event.header := struct { integer { size = 8; } id; }; };',
  'stream { id = 0; };',
  'event { name = "fz"; id = 0; stream_id = 0; };',
  'event { name = "fz"; id = 4294967295; stream_id = 0; fields := struct { string s; }; };',
  'event { name = "fz"; id = 1; stream_id = 77; };',
  'clock { name = fzc; freq = 0; };',
  'clock { name = monotonic; freq = 1; offset = -9223372036854775808; };',
  'clock { name = fzc2; freq = 18446744073709551615; offset_s = 9223372036854775807; };',
  'env { fz = 1; };',
  'env { hostname = 7; };',
  'trace { major = 1; minor = 8; byte_order = be; };',
  'typealias integer { size = 8; } := fz_t;',
  'typealias integer { size = 8; } := uint32_t;',
  'typealias integer { size = 64; align = 1048576; } := uint64_t;',
  'callsite { name = "x"; func = "f"; file = "a.c"; line = 1; ip = 0xffffffffffffffff; };',
  'struct fz_s { integer { size = 8; } a; struct fz_s b; };',
  'enum fz_e : integer { size = 8; } { A = 0 ... 255, B };',
  'variant fz_v { string a; };',
  'typedef struct { integer { size = 8; } a; } fz_td;',
];

/** Character noise for the text. */
const TSDL_CHARS: readonly string[] = [
  '{',
  '}',
  ';',
  '[',
  ']',
  '<',
  '>',
  ':=',
  '"',
  '/*',
  '*/',
  '//',
  '\\',
  '\n',
  '\0',
  '\u00ff',
  '\u{1F600}',
  ' ',
  '0',
  'x',
  '.',
  '...',
  ',',
  '=',
  '\r',
  "'",
];

/** Metadata packet header fields: [byte offset, width]. */
const MPKT_FIELDS: ReadonlyArray<readonly [number, 1 | 4]> = [
  [0, 4], // magic
  [4, 4], // uuid (first bytes)
  [20, 4], // checksum
  [24, 4], // content_size
  [28, 4], // packet_size
  [32, 1], // compression_scheme
  [33, 1], // encryption_scheme
  [34, 1], // checksum_scheme
  [35, 1], // major
  [36, 1], // minor
];

// ---- arbitraries ------------------------------------------------------------------------------

const nat = fc.nat({ max: 0x7fffffff });
const at: fc.Arbitrary<At> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ page: nat, off: fc.nat({ max: 127 }) }) },
  { weight: 1, arbitrary: fc.record({ page: nat, off: nat, frac: fc.nat({ max: (1 << 20) - 1 }) }) },
);

const tsdlOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('tsdl-num' as const), k: nat, v: fc.constantFrom(...TSDL_NUMS) }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tsdl-ident' as const), k: nat, j: nat }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('tsdl-path' as const), k: nat, v: fc.constantFrom(...TSDL_PATHS) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('tsdl-field' as const),
      k: nat,
      v: fc.constantFrom(...TSDL_FIELDS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('tsdl-block' as const),
      k: nat,
      v: fc.constantFrom(...TSDL_BLOCKS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('tsdl-line' as const),
      op: fc.constantFrom('del' as const, 'dup' as const, 'swap' as const),
      k: nat,
      j: nat,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('tsdl-chars' as const),
      k: nat,
      del: fc.nat({ max: 8 }),
      v: fc.array(fc.constantFrom(...TSDL_CHARS), { minLength: 0, maxLength: 3 }).map((a) => a.join('')),
    }),
  },
);

const streamOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('bytes-int' as const),
      f: nat,
      at,
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      le: fc.boolean(),
      v: fc.oneof(fc.constantFrom(...EDGE_INTS), fc.bigInt({ min: 0n, max: POW(64) - 1n }).map(String)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('bytes-flip' as const), f: nat, at, bit: fc.nat({ max: 7 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('bytes-rand' as const),
      f: nat,
      at,
      hex: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bytes-cut' as const), f: nat, at }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('bytes-copy' as const),
      f: nat,
      from: at,
      to: at,
      len: fc.integer({ min: 1, max: 8192 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('file-drop' as const), f: nat }) },
);

const mpktOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('mpkt-field' as const),
      p: nat,
      field: fc.nat({ max: MPKT_FIELDS.length - 1 }),
      v: fc.constantFrom(...EDGE_INTS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('mpkt-cut' as const), frac: fc.nat({ max: (1 << 20) - 1 }) }),
  },
);

const idxOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('idx-field' as const),
      f: nat,
      entry: fc.integer({ min: -1, max: 0x7fffffff }),
      field: fc.nat({ max: 8 }),
      v: fc.constantFrom(...EDGE_INTS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('idx-cut' as const),
      f: nat,
      frac: fc.nat({ max: (1 << 20) - 1 }),
    }),
  },
);

const OPS: Record<MutationClass, fc.Arbitrary<Op>> = {
  tsdl: tsdlOp,
  stream: streamOp,
  packetized: mpktOp,
  index: idxOp,
};

/** The classes a seed can take, with their weights. */
export function classesOf(seed: Seed): Array<[MutationClass, number]> {
  const out: Array<[MutationClass, number]> = [
    ['tsdl', 4],
    ['stream', 4],
  ];
  if (seed.packetized) out.push(['packetized', 1]);
  if (seed.indexes.length > 0) out.push(['index', 1]);
  return out;
}

/** Mutants of `seeds`: a seed, one class it can take, and 1 to 3 operations of that class. */
export function mutantArbitrary(seeds: readonly Seed[]): fc.Arbitrary<Mutant> {
  const seedIndex = fc.oneof(...seeds.map((s, i) => ({ weight: s.weight, arbitrary: fc.constant(i) })));
  return seedIndex.chain((seed) => {
    const classes = classesOf(seeds[seed]!);
    return fc
      .oneof(...classes.map(([c, w]) => ({ weight: w, arbitrary: fc.constant(c) })))
      .chain((cls) =>
        fc.array(OPS[cls], { minLength: 1, maxLength: 3 }).map((ops): Mutant => ({ seed, cls, ops })),
      );
  });
}

// ---- applying ---------------------------------------------------------------------------------

/** Index entry fields (8 bytes each, big-endian): entry -1 means the 16-byte header (4-byte fields). */
const IDX_HEADER = 16;

function mod(n: number, m: number): number {
  return m <= 0 ? 0 : ((n % m) + m) % m;
}

function offsetIn(size: number, a: At): number {
  if (size === 0) return 0;
  if (a.frac !== undefined) return Math.min(size - 1, Math.floor((a.frac / (1 << 20)) * size));
  const pages = Math.max(1, Math.ceil(size / 4096));
  return Math.min(size - 1, mod(a.page, pages) * 4096 + a.off);
}

function writeInt(buf: Buffer, off: number, width: number, le: boolean, v: bigint): void {
  const x = v & ((1n << BigInt(8 * width)) - 1n);
  for (let i = 0; i < width && off + i < buf.length; i++) {
    const byte = Number((x >> BigInt(8 * i)) & 0xffn);
    buf[le ? off + i : off + width - 1 - i] = byte;
  }
}

/** Indices of the matches of `re` in `text` (start, end). */
function matches(text: string, re: RegExp): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const m of text.matchAll(re)) out.push([m.index, m.index + m[0].length]);
  return out;
}

const NUMBER_RE = /(?<![\w.])-?(?:0[xX][0-9a-fA-F]+|\d+)(?![\w.])/g;
const IDENT_RE = /\b[A-Za-z_]\w*\b/g;

function splice(text: string, [a, b]: [number, number], v: string): string {
  return text.slice(0, a) + v + text.slice(b);
}

/**
 * Offsets of the closing braces of structure bodies (comments and strings not skipped), and
 * which of them close a stream-wide scope (packet header or context, event header or stream
 * event context: decoded for every packet or event, so what is inserted there is read).
 */
function structCloses(text: string): { all: number[]; common: number[] } {
  const all: number[] = [];
  const common: number[] = [];
  const stack: Array<0 | 1 | 2> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      const before = text.slice(Math.max(0, i - 96), i);
      stack.push(
        /\b(packet\.header|packet\.context|event\.header|event\.context)\s*:=\s*struct(\s+\w+)?\s*$/.test(
          before,
        )
          ? 2
          : /\bstruct(\s+\w+)?\s*$/.test(before)
            ? 1
            : 0,
      );
    } else if (c === '}') {
      const k = stack.pop();
      if (k !== undefined && k > 0) all.push(i);
      if (k === 2) common.push(i);
    }
  }
  return { all, common };
}

/** Applies TSDL text operations. */
export function mutateText(text: string, ops: readonly Op[]): string {
  let t = text;
  for (const op of ops) {
    switch (op.t) {
      case 'tsdl-num': {
        const ms = matches(t, NUMBER_RE);
        if (ms.length > 0) t = splice(t, ms[mod(op.k, ms.length)]!, op.v);
        break;
      }
      case 'tsdl-ident': {
        const ms = matches(t, IDENT_RE);
        if (ms.length > 0) {
          const [a, b] = ms[mod(op.j, ms.length)]!;
          t = splice(t, ms[mod(op.k, ms.length)]!, t.slice(a, b));
        }
        break;
      }
      case 'tsdl-path': {
        // Prefer the names inside brackets and angle brackets (lengths and tags).
        const refs = matches(t, /(?<=[[<]\s*)[A-Za-z_][\w.]*(?=\s*[\]>])/g);
        const ms = refs.length > 0 && op.k % 4 !== 0 ? refs : matches(t, IDENT_RE);
        if (ms.length > 0) t = splice(t, ms[mod(op.k, ms.length)]!, op.v);
        break;
      }
      case 'tsdl-field': {
        // Mostly at the end of a structure body (half the time one read for every event),
        // sometimes before any closing brace.
        const { all, common } = structCloses(t);
        const sel = op.k % 6;
        const ms =
          sel === 0 || all.length === 0
            ? matches(t, /\}/g).map(([a]) => a)
            : sel <= 3 && common.length > 0
              ? common
              : all;
        if (ms.length > 0) {
          const a = ms[mod(op.k, ms.length)]!;
          t = splice(t, [a, a], ` ${op.v} `);
        }
        break;
      }
      case 'tsdl-block': {
        // After the k-th `};` (a block or declaration end), or at the very start.
        const ends = [0, ...matches(t, /\}\s*;/g).map(([, b]) => b)];
        const pos = ends[mod(op.k, ends.length)]!;
        t = splice(t, [pos, pos], `\n${op.v}\n`);
        break;
      }
      case 'tsdl-line': {
        const lines = t.split('\n');
        const k = mod(op.k, lines.length);
        const j = mod(op.j, lines.length);
        if (op.op === 'del') lines.splice(k, 1);
        else if (op.op === 'dup') lines.splice(j, 0, lines[k]!);
        else [lines[k], lines[j]] = [lines[j]!, lines[k]!];
        t = lines.join('\n');
        break;
      }
      case 'tsdl-chars': {
        const k = mod(op.k, t.length + 1);
        t = t.slice(0, k) + op.v + t.slice(k + op.del);
        break;
      }
      default:
        break;
    }
  }
  return t;
}

/**
 * Writes the mutant of `seed` into `out` (created; must not exist). Returns the files changed,
 * relative to `out`.
 */
export function applyMutant(seed: Seed, m: Mutant, out: string): string[] {
  mkdirSync(out, { recursive: true });
  const all = ['metadata', ...seed.streams, ...seed.indexes];
  for (const f of all) {
    mkdirSync(dirname(join(out, f)), { recursive: true });
    copyFileSync(join(seed.dir, f), join(out, f));
  }
  const changed = new Set<string>();
  const streams = [...seed.streams];
  const textOps = m.ops.filter((o) => o.t.startsWith('tsdl-'));
  if (textOps.length > 0) {
    const path = join(out, 'metadata');
    const bytes = readFileSync(path);
    if (seed.packetized) {
      const md = readMetadataBytes(bytes, path);
      const text = mutateText(md.text, textOps);
      writeFileSync(path, packetizeMetadata(text, md.uuid ?? new Uint8Array(16), md.byteOrder ?? 'le'));
    } else {
      writeFileSync(path, Buffer.from(mutateText(bytes.toString('latin1'), textOps), 'latin1'));
    }
    changed.add('metadata');
  }
  for (const op of m.ops) {
    switch (op.t) {
      case 'bytes-int':
      case 'bytes-flip':
      case 'bytes-rand':
      case 'bytes-cut':
      case 'bytes-copy': {
        if (streams.length === 0) break;
        const f = streams[mod(op.f, streams.length)]!;
        const path = join(out, f);
        const buf = readFileSync(path);
        if (buf.length === 0) break;
        if (op.t === 'bytes-int') writeInt(buf, offsetIn(buf.length, op.at), op.width, op.le, BigInt(op.v));
        else if (op.t === 'bytes-flip') buf[offsetIn(buf.length, op.at)]! ^= 1 << op.bit;
        else if (op.t === 'bytes-rand') Buffer.from(op.hex, 'hex').copy(buf, offsetIn(buf.length, op.at));
        else if (op.t === 'bytes-copy') {
          const from = offsetIn(buf.length, op.from);
          buf.copy(buf, offsetIn(buf.length, op.to), from, Math.min(buf.length, from + op.len));
        }
        if (op.t === 'bytes-cut') truncateSync(path, offsetIn(buf.length, op.at));
        else writeFileSync(path, buf);
        changed.add(f);
        break;
      }
      case 'file-drop': {
        if (streams.length <= 1) break;
        const [f] = streams.splice(mod(op.f, streams.length), 1);
        rmSync(join(out, f!));
        changed.add(f!);
        break;
      }
      case 'mpkt-field':
      case 'mpkt-cut': {
        const path = join(out, 'metadata');
        const buf = readFileSync(path);
        if (op.t === 'mpkt-cut') {
          truncateSync(path, Math.floor((op.frac / (1 << 20)) * buf.length));
        } else {
          const le = buf.length >= 4 && buf.readUInt32LE(0) === 0x75d11d57;
          // Packets are found by walking their packet_size fields (as written, before mutation).
          const starts: number[] = [];
          for (let o = 0; o + 37 <= buf.length && starts.length < 1 << 16;) {
            starts.push(o);
            const bits = le ? buf.readUInt32LE(o + 28) : buf.readUInt32BE(o + 28);
            if (bits < 8 * 37 || bits % 8 !== 0) break;
            o += bits / 8;
          }
          if (starts.length === 0) break;
          const [off, width] = MPKT_FIELDS[mod(op.field, MPKT_FIELDS.length)]!;
          writeInt(buf, starts[mod(op.p, starts.length)]! + off, width, le, BigInt(op.v));
          writeFileSync(path, buf);
        }
        changed.add('metadata');
        break;
      }
      case 'idx-field':
      case 'idx-cut': {
        if (seed.indexes.length === 0) break;
        const f = seed.indexes[mod(op.f, seed.indexes.length)]!;
        const path = join(out, f);
        const buf = readFileSync(path);
        if (op.t === 'idx-cut') truncateSync(path, Math.floor((op.frac / (1 << 20)) * buf.length));
        else if (op.entry < 0 || buf.length < IDX_HEADER + 8) {
          writeInt(buf, 4 * mod(op.field, 4), 4, false, BigInt(op.v));
          writeFileSync(path, buf);
        } else {
          const entrySize = Math.max(56, buf.readUInt32BE(12));
          const n = Math.max(1, Math.floor((buf.length - IDX_HEADER) / entrySize));
          const off =
            IDX_HEADER + mod(op.entry, n) * entrySize + 8 * mod(op.field, Math.floor(entrySize / 8));
          writeInt(buf, off, 8, false, BigInt(op.v));
          writeFileSync(path, buf);
        }
        changed.add(f);
        break;
      }
      default:
        break;
    }
  }
  return [...changed];
}
