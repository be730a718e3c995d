/**
 * CTF 1.8 metadata → `TraceClass` (src/ctf/ir.ts).
 *
 * Pipeline: `packetized.ts` (bytes → TSDL text) → `lexer.ts` → `parser.ts` (AST) →
 * `resolve.ts` (blocks; `types.ts` for type declarations, `instantiate.ts` for field paths).
 * Every rejected metadata gives a `MetadataError` with the line and column of the offending
 * construct (or a `TraceFormatError` with a byte offset for a malformed packet).
 */
import { readFileSync } from 'node:fs';
import { MetadataError, TraceFormatError } from '../../util/errors.js';
import type { TraceClass } from '../ir.js';
import { readMetadataBytes } from './packetized.js';
import { Parser } from './parser.js';
import { resolveItems, type ResolveOptions } from './resolve.js';

export type { MetadataWarning, ResolveOptions as ParseOptions } from './resolve.js';
export { readMetadataBytes, type MetadataText } from './packetized.js';

/**
 * Parses TSDL text. `file` names the metadata in error messages. `options.packetByteOrder`
 * (set by `readMetadataFile` for packetized metadata) must agree with the trace's byte order.
 */
export function parseMetadata(text: string, file: string, options?: ResolveOptions): TraceClass {
  checkSignature(text, file);
  const stream = () => {
    const p = Parser.of(text, file);
    return { nextItem: () => p.parseTopItem(), end: () => p.endLoc() };
  };
  const first = stream();
  return resolveItems(first.nextItem, first.end, file, options ?? {}, guessByteOrder(text), stream);
}

/**
 * The byte order the trace block most likely names, read from the raw text (comments could
 * fool it: a wrong guess costs a second pass, never a wrong result).
 */
function guessByteOrder(text: string): 'le' | 'be' {
  const t = /\btrace\s*\{/.exec(text);
  if (t === null) return 'le';
  const m = /\bbyte_order\s*=\s*(\w+)/.exec(text.slice(t.index, t.index + 4096));
  const w = m?.[1];
  return w === 'be' || w === 'big_endian' || w === 'network' ? 'be' : 'le';
}

type ParsedMetadata = { cls: TraceClass; text: string; packetized: boolean };

/**
 * The last metadata files parsed without options, with their bytes: commands read a trace's
 * metadata twice (to group traces by machine, then to open them) and a parse costs tens of ms
 * on a kernel trace. The trace class is immutable; a file whose bytes changed is parsed again.
 */
const parsed = new Map<string, { bytes: Buffer; result: ParsedMetadata }>();
const PARSED_KEPT = 8;

/** Reads and parses a metadata file in either form. */
export function readMetadataFile(
  path: string,
  options?: Omit<ResolveOptions, 'packetByteOrder'>,
): ParsedMetadata {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TraceFormatError(
      path,
      undefined,
      `cannot read the metadata file (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      {
        cause: e,
      },
    );
  }
  const cacheable = options === undefined || options.onWarning === undefined;
  const have = cacheable ? parsed.get(path) : undefined;
  if (have !== undefined && have.bytes.equals(bytes)) return have.result;
  const m = readMetadataBytes(bytes, path);
  const cls = parseMetadata(m.text, path, {
    ...options,
    ...(m.byteOrder === undefined ? {} : { packetByteOrder: m.byteOrder }),
  });
  const result = { cls, text: m.text, packetized: m.packetized };
  if (cacheable) {
    parsed.delete(path);
    if (parsed.size >= PARSED_KEPT) parsed.delete(parsed.keys().next().value!);
    parsed.set(path, { bytes, result });
  }
  return result;
}

/**
 * Text that starts with the `/* CTF` signature must name version 1.8 (spec §7.1); text
 * without it is read as TSDL anyway, as babeltrace does.
 */
function checkSignature(text: string, file: string): void {
  if (!text.startsWith('/* CTF')) return;
  if (!/^\/\* CTF 1\.8(?![0-9])/.test(text)) {
    const shown = text.slice(0, 40).split('\n')[0]!;
    throw new MetadataError(file, 1, 1, `unsupported metadata signature '${shown}' (expecting '/* CTF 1.8')`);
  }
}
