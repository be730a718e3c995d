/**
 * AST → `TraceClass`: the meaning of the trace, env, clock, stream, event and callsite blocks,
 * and the cross-block rules (stream ids, event ids, the `stream_id` packet header field, clock
 * references, the types of the fields with a special meaning).
 *
 * Runs in two phases. Phase A visits the declarations in text order (lexical scoping is a
 * text-order affair) and builds draft types (`types.ts`); `native` byte order is known from
 * the start because the trace block is found first, wherever it is. Phase B places the scope
 * structures in decoding order (`instantiate.ts`), once all streams and events are known —
 * streams may be declared after their events.
 */
import { MetadataError } from '../../util/errors.js';
import type { ByteOrder, Callsite, ClockClass, EnvValue, TraceClass } from '../ir.js';
import type { Ast, Attribute, Block, BodyItem, Expr, Loc, TopItem } from './ast.js';
import { describeType, type DStruct } from './dtypes.js';
import { buildTraceClass, type EventRec, type StreamRec, type TraceRec } from './build.js';
import { LexScope, TypeBuilder, type DeclCtx } from './types.js';

export interface MetadataWarning {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface ResolveOptions {
  /** Byte order of the metadata packets, when the metadata was packetized (must match). */
  readonly packetByteOrder?: ByteOrder;
  /** Called for each tolerated oddity (unknown attribute, ...). */
  readonly onWarning?: (w: MetadataWarning) => void;
}

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/** Thrown when the trace block's byte order differs from the guess the types were built with. */
class ByteOrderGuessWrong {
  constructor(readonly actual: ByteOrder) {}
}

/** Resolves a whole AST (tests and tools; `parseMetadata` streams instead). */
export function resolve(ast: Ast, file: string, options: ResolveOptions = {}): TraceClass {
  const items = () => {
    let i = 0;
    return { nextItem: () => ast.items[i++], end: () => ast.end };
  };
  const first = items();
  return resolveItems(first.nextItem, first.end, file, options, guessByteOrderFromAst(ast), items);
}

/**
 * Resolves top-level items as `nextItem` produces them, so that each item's AST can be
 * dropped once it is processed. Types are built with the byte order `guess` for `native`; if
 * the trace block (wherever it is) says otherwise, everything is resolved again.
 */
export function resolveItems(
  nextItem: () => TopItem | undefined,
  end: () => Loc,
  file: string,
  options: ResolveOptions,
  guess: ByteOrder,
  restart?: () => { nextItem: () => TopItem | undefined; end: () => Loc },
): TraceClass {
  const run = (next: () => TopItem | undefined, endLoc: () => Loc, byteOrder: ByteOrder): TraceClass => {
    const r = new Resolver(file, options, byteOrder);
    for (let item = next(); item !== undefined; item = next()) r.item(item);
    const cls = r.finish(endLoc());
    for (const w of r.warnings) options.onWarning?.(w);
    return cls;
  };
  try {
    return run(nextItem, end, options.packetByteOrder ?? guess);
  } catch (e) {
    if (!(e instanceof ByteOrderGuessWrong)) throw e;
    if (restart === undefined) throw new Error('internal: wrong byte order guess and no way to restart');
    const again = restart();
    return run(again.nextItem, again.end, e.actual);
  }
}

function guessByteOrderFromAst(ast: Ast): ByteOrder {
  for (const item of ast.items) {
    if (item.kind !== 'block' || item.block !== 'trace') continue;
    const bo = traceByteOrder(item);
    if (bo !== undefined) return bo;
  }
  return 'le';
}

/** The byte order a trace block names, if it names a valid one. */
function traceByteOrder(t: Block): ByteOrder | undefined {
  const bo = t.items.find((i): i is Attribute => i.kind === 'attr' && i.name === 'byte_order');
  const v = bo?.value;
  if (v?.kind === 'path' && v.parts.length === 1) {
    const w = v.parts[0];
    if (w === 'le' || w === 'little_endian') return 'le';
    if (w === 'be' || w === 'big_endian' || w === 'network') return 'be';
  }
  return undefined;
}

class Resolver {
  private readonly b: TypeBuilder;
  private readonly root = new LexScope(undefined);
  private trace: TraceRec | undefined;
  private env: Map<string, EnvValue> | undefined;
  private readonly clocks = new Map<string, ClockClass>();
  private readonly streams: StreamRec[] = [];
  private readonly events: EventRec[] = [];
  private readonly callsites: Callsite[] = [];

  constructor(
    private readonly file: string,
    private readonly options: ResolveOptions,
    /** What `native` means; checked against the trace block when it comes. */
    private readonly byteOrder: ByteOrder,
  ) {
    this.b = new TypeBuilder({
      file,
      byteOrder,
      env: () => this.env,
      warn: (loc, message) => this.warn(loc, message),
    });
  }

  private error(loc: Loc, reason: string): MetadataError {
    return new MetadataError(this.file, loc.line, loc.col, reason);
  }

  /** Warnings, reported once resolution succeeds (a byte order retry would repeat them). */
  readonly warnings: MetadataWarning[] = [];

  private warn(loc: Loc, message: string): void {
    this.warnings.push({ file: this.file, line: loc.line, column: loc.col, message });
  }

  /** Checks the trace block's byte order against the one types are being built with. */
  private checkTraceByteOrder(t: Block): void {
    const bo = t.items.find((i): i is Attribute => i.kind === 'attr' && i.name === 'byte_order');
    if (bo === undefined) throw this.error(t.loc, "trace block has no 'byte_order' attribute");
    const order = traceByteOrder(t);
    if (order === undefined)
      throw this.error(bo.value?.loc ?? bo.loc, "trace byte_order must be 'be' or 'le'");
    const pkt = this.options.packetByteOrder;
    if (pkt !== undefined && pkt !== order) {
      throw this.error(
        bo.value!.loc,
        `trace byte order ${order} does not match the byte order of the metadata packets (${pkt})`,
      );
    }
    if (order !== this.byteOrder) throw new ByteOrderGuessWrong(order);
  }

  item(item: TopItem): void {
    if (item.kind === 'block') {
      if (item.block === 'trace') {
        if (this.trace !== undefined) throw this.error(item.loc, 'duplicate trace block');
        this.checkTraceByteOrder(item);
      }
      this.block(item, this.root);
    } else {
      this.noFields(item, { scope: this.root, frame: undefined, inBlock: false }, 'at the top level');
    }
  }

  finish(end: Loc): TraceClass {
    if (this.trace === undefined) throw this.error(end, 'metadata has no trace block');
    for (const r of this.b.clockRefs) {
      if (!this.clocks.has(r.name))
        throw this.error(r.loc, `integer maps to clock '${r.name}', which is not declared`);
    }
    return buildTraceClass(
      {
        trace: this.trace,
        env: this.env,
        clocks: this.clocks,
        streams: this.streams,
        events: this.events,
        callsites: this.callsites,
        byteOrder: this.byteOrder,
      },
      this.b,
    );
  }

  private noFields(item: BodyItem, ctx: DeclCtx, where: string): void {
    const fields = this.b.declare(item, ctx);
    if (fields.length > 0)
      throw this.error(
        fields[0]!.loc,
        `field '${fields[0]!.name}' declared ${where}; fields belong in a struct`,
      );
  }

  // ---- phase A: blocks ----

  private block(block: Block, root: LexScope): void {
    const ctx: DeclCtx = { scope: new LexScope(root), frame: undefined, inBlock: true };
    const attrs = new Map<string, Attribute>();
    for (const item of block.items) {
      if (item.kind === 'attr') {
        if (attrs.has(item.name))
          throw this.error(item.loc, `duplicate attribute '${item.name}' in ${block.block} block`);
        attrs.set(item.name, item);
        this.attribute(block, item, ctx);
      } else {
        this.noFields(item, ctx, `in a ${block.block} block`);
      }
    }
    this.finishBlock(block, attrs);
  }

  // Per-block records under construction (set by attribute(), completed by finishBlock()).
  private cur: TraceRec | StreamRec | EventRec | Partial<ClockClass> | Partial<Callsite> | undefined;

  private attribute(block: Block, a: Attribute, ctx: DeclCtx): void {
    switch (block.block) {
      case 'trace': {
        const t = (this.cur ??= { major: -1, minor: -1, loc: block.loc }) as TraceRec;
        switch (a.name) {
          case 'major':
            t.major = this.uint(a);
            return;
          case 'minor':
            t.minor = this.uint(a);
            return;
          case 'byte_order':
            return; // done by findByteOrder()
          case 'uuid':
            t.uuid = this.uuid(a);
            return;
          case 'packet.header':
            t.packetHeader = this.scopeType(a, ctx);
            return;
        }
        break;
      }
      case 'env': {
        const v = this.value(a);
        if (v.kind === 'str') this.envSet(a, v.value);
        else if (v.kind === 'int') {
          if (v.value > S64_MAX || v.value < S64_MIN) {
            throw this.error(v.loc, `env entry '${a.name}' is out of the signed 64-bit range`);
          }
          this.envSet(
            a,
            Number.isSafeInteger(Number(v.value)) && BigInt(Number(v.value)) === v.value
              ? Number(v.value)
              : v.value,
          );
        } else throw this.error(v.loc, `env entry '${a.name}' must be a string or an integer constant`);
        return;
      }
      case 'clock': {
        const c = (this.cur ??= {}) as { -readonly [K in keyof ClockClass]?: ClockClass[K] } & {
          rawOffset?: bigint;
          rawOffsetS?: bigint;
        };
        switch (a.name) {
          case 'name':
            c.name = this.nameValue(a);
            return;
          case 'uuid':
            c.uuid = this.uuid(a);
            return;
          case 'description':
            c.description = this.str(a);
            return;
          case 'freq': {
            const f = this.uint(a);
            if (f === 0) throw this.error(this.value(a).loc, 'clock frequency must not be 0');
            c.freq = f;
            return;
          }
          case 'precision':
            c.precision = this.uint(a);
            return;
          case 'offset':
            c.rawOffset = this.int64(a);
            return;
          case 'offset_s':
            c.rawOffsetS = this.int64(a);
            return;
          case 'absolute':
            c.absolute = this.b.bool(a);
            return;
        }
        break;
      }
      case 'stream': {
        const s = (this.cur ??= { loc: block.loc }) as StreamRec;
        switch (a.name) {
          case 'id':
            s.id = this.uint(a);
            return;
          case 'packet.context':
            s.packetContext = this.scopeType(a, ctx);
            return;
          case 'event.header':
            s.eventHeader = this.scopeType(a, ctx);
            return;
          case 'event.context':
            s.eventContext = this.scopeType(a, ctx);
            return;
        }
        break;
      }
      case 'event': {
        const e = (this.cur ??= { loc: block.loc }) as EventRec;
        switch (a.name) {
          case 'name':
            e.name = this.nameValue(a);
            return;
          case 'id':
            e.id = this.uint(a);
            e.idLoc = a.loc;
            return;
          case 'stream_id':
            e.streamId = this.uint(a);
            e.streamIdLoc = a.loc;
            return;
          case 'loglevel':
            e.logLevel = Number(this.int64(a));
            return;
          case 'model.emf.uri':
            e.emfUri = this.str(a);
            return;
          case 'context':
            e.context = this.scopeType(a, ctx);
            return;
          case 'fields':
            e.fields = this.scopeType(a, ctx);
            return;
        }
        break;
      }
      case 'callsite': {
        const c = (this.cur ??= {}) as { -readonly [K in keyof Callsite]?: Callsite[K] };
        switch (a.name) {
          case 'name':
            c.name = this.nameValue(a);
            return;
          case 'func':
            c.func = this.str(a);
            return;
          case 'file':
            c.file = this.str(a);
            return;
          case 'line':
            c.line = this.uint(a);
            return;
          case 'ip': {
            const v = this.value(a);
            if (v.kind !== 'int' || v.value < 0n)
              throw this.error(v.loc, 'callsite ip must be an unsigned integer constant');
            c.ip = v.value;
            return;
          }
        }
        break;
      }
    }
    if (a.type !== undefined) this.b.typeOf(a.type, ctx, false); // still check it
    this.warn(a.loc, `unknown attribute '${a.name}' in ${block.block} block ignored`);
  }

  private finishBlock(block: Block, attrs: Map<string, Attribute>): void {
    const cur = this.cur;
    this.cur = undefined;
    switch (block.block) {
      case 'trace': {
        const t = (cur ?? { major: -1, minor: -1, loc: block.loc }) as TraceRec;
        if (!attrs.has('major')) throw this.error(block.loc, "trace block has no 'major' attribute");
        if (!attrs.has('minor')) throw this.error(block.loc, "trace block has no 'minor' attribute");
        if (t.major === 0 && t.minor === 1) {
          this.warn(attrs.get('major')!.loc, 'CTF 0.1 (LTTng 2.0 pre-release) metadata read as CTF 1.8');
        } else if (t.major !== 1 || t.minor !== 8) {
          throw this.error(
            attrs.get('major')!.loc,
            `unsupported CTF version ${t.major}.${t.minor} (expected 1.8)`,
          );
        }
        this.trace = t;
        return;
      }
      case 'env':
        if (this.env !== undefined) throw this.error(block.loc, 'duplicate env block');
        this.env = this.envStaging ?? new Map();
        this.envStaging = undefined;
        return;
      case 'clock': {
        const c = (cur ?? {}) as Partial<ClockClass> & { rawOffset?: bigint; rawOffsetS?: bigint };
        if (c.name === undefined) throw this.error(block.loc, "clock block has no 'name' attribute");
        if (this.clocks.has(c.name)) throw this.error(block.loc, `duplicate clock '${c.name}'`);
        const freq = c.freq ?? 1e9;
        // Normalise the offset to whole seconds plus 0 <= cycles < freq (exact, any magnitude).
        const total = (c.rawOffsetS ?? 0n) * BigInt(freq) + (c.rawOffset ?? 0n);
        let secs = total / BigInt(freq);
        let cycles = total % BigInt(freq);
        if (cycles < 0n) {
          cycles += BigInt(freq);
          secs -= 1n;
        }
        if (secs > BigInt(Number.MAX_SAFE_INTEGER) || secs < -BigInt(Number.MAX_SAFE_INTEGER)) {
          this.warn(block.loc, `clock '${c.name}' offset of ${secs} s is beyond 2^53 s and is rounded`);
        }
        const clock: ClockClass = {
          name: c.name,
          freq,
          offsetSeconds: Number(secs),
          offsetCycles: Number(cycles),
          precision: c.precision ?? 0,
          absolute: c.absolute ?? false,
          ...(c.uuid === undefined ? {} : { uuid: c.uuid }),
          ...(c.description === undefined ? {} : { description: c.description }),
        };
        this.clocks.set(c.name, clock);
        return;
      }
      case 'stream':
        this.streams.push((cur ?? { loc: block.loc }) as StreamRec);
        return;
      case 'event': {
        const e = (cur ?? { loc: block.loc }) as EventRec;
        if (e.name === undefined) throw this.error(block.loc, "event block has no 'name' attribute");
        this.events.push(e);
        return;
      }
      case 'callsite': {
        const c = (cur ?? {}) as Partial<Callsite>;
        this.callsites.push({
          name: c.name ?? '',
          func: c.func ?? '',
          file: c.file ?? '',
          line: c.line ?? 0,
          ip: c.ip ?? 0n,
        });
        return;
      }
    }
  }

  /** Entries of the env block being read; published to `env` when the block ends. */
  private envStaging: Map<string, EnvValue> | undefined;

  private envSet(a: Attribute, v: EnvValue): void {
    const staged = (this.envStaging ??= new Map());
    if (staged.has(a.name)) throw this.error(a.loc, `duplicate env entry '${a.name}'`);
    staged.set(a.name, v);
  }

  // ---- attribute values ----

  private value(a: Attribute): Expr {
    return this.b.valueOf(a);
  }

  private uint(a: Attribute): number {
    return this.b.uint(a, `'${a.name}'`);
  }

  private int64(a: Attribute): bigint {
    const v = this.value(a);
    if (v.kind !== 'int') throw this.error(v.loc, `'${a.name}' must be an integer constant`);
    if (v.value > U64_MAX || v.value < S64_MIN)
      throw this.error(v.loc, `'${a.name}' is out of the 64-bit range`);
    return v.value;
  }

  private str(a: Attribute): string {
    const v = this.value(a);
    if (v.kind !== 'str') throw this.error(v.loc, `'${a.name}' must be a string literal`);
    return v.value;
  }

  /** Event and clock names: a string literal or a single identifier. */
  private nameValue(a: Attribute): string {
    const v = this.value(a);
    if (v.kind === 'str') return v.value;
    if (v.kind === 'path' && v.parts.length === 1) return v.parts[0]!;
    throw this.error(v.loc, `'${a.name}' must be a string literal or an identifier`);
  }

  private uuid(a: Attribute): Uint8Array {
    const v = this.value(a);
    if (v.kind !== 'str') throw this.error(v.loc, `'${a.name}' must be a UUID string`);
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v.value)) {
      throw this.error(
        v.loc,
        `invalid UUID ${JSON.stringify(v.value.length > 40 ? v.value.slice(0, 40) + '...' : v.value)}`,
      );
    }
    const hex = v.value.replace(/-/g, '');
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  private scopeType(a: Attribute, ctx: DeclCtx): DStruct {
    if (a.type === undefined) throw this.error(a.loc, `'${a.name}' must be assigned a type with ':='`);
    const t = this.b.typeOf(a.type, ctx, false);
    if (t.kind !== 'struct')
      throw this.error(a.type.loc, `'${a.name}' must be a structure, not a ${describeType(t)}`);
    return t;
  }
}
