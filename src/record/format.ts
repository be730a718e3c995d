/**
 * Parsers for the tracefs self-description files: an event's `format` file, `header_page` and
 * `header_event`. They tell where each field of a raw ftrace record sits and how the ring
 * buffer pages are framed, so that nothing about the running kernel's layout is hard-coded.
 */
import { NstraceError } from '../util/errors.js';

/** One field of an ftrace event record, as its `format` file describes it. */
export interface FtraceField {
  readonly name: string;
  /** C type as written in the format file, e.g. `const char *`, `pid_t`, `unsigned long`. */
  readonly type: string;
  /** Byte offset from the start of the record (the `common_type` field is at 0). */
  readonly offset: number;
  /** Size in bytes (for arrays: of the whole array; for `__data_loc`: 4, the locator). */
  readonly size: number;
  readonly signed: boolean;
  /** `__data_loc` field: a u32 locator, low 16 bits = offset, high 16 bits = length. */
  readonly dataLoc: boolean;
  /** Element count of a fixed array (`char comm[16]` gives 16), else 0. */
  readonly arrayLength: number;
}

export interface FtraceEventFormat {
  readonly system: string;
  readonly name: string;
  /** The id the kernel writes in `common_type`. */
  readonly id: number;
  /** Every field, the `common_*` ones included, in file order. */
  readonly fields: readonly FtraceField[];
}

/** Ring-buffer page framing, from `events/header_page`. */
export interface PageHeaderLayout {
  readonly timestampOffset: number;
  readonly timestampSize: number;
  readonly commitOffset: number;
  readonly commitSize: number;
  /** Offset of the first event in a page. */
  readonly dataOffset: number;
  /** Bytes of event data a page can hold. */
  readonly dataSize: number;
}

/** Event header framing, from `events/header_event`. */
export interface EventHeaderLayout {
  readonly typeLenBits: number;
  readonly timeDeltaBits: number;
  readonly padding: number;
  readonly timeExtend: number;
  readonly timeStamp: number;
  readonly dataMaxTypeLen: number;
}

export class FormatError extends NstraceError {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
  }
}

const FIELD_RE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/** Parses one `field:` line; returns undefined for lines that are not field lines. */
export function parseFieldLine(line: string, file = 'format'): FtraceField | undefined {
  const m = FIELD_RE.exec(line);
  if (!m) return undefined;
  const decl = m[1]!.trim();
  const offset = Number(m[2]);
  const size = Number(m[3]);
  const signed = m[4] === '1';
  let dataLoc = false;
  let body = decl;
  if (body.startsWith('__data_loc ')) {
    dataLoc = true;
    body = body.slice('__data_loc '.length);
  } else if (body.startsWith('__rel_loc ')) {
    throw new FormatError(file, `__rel_loc fields are not supported: ${decl}`);
  }
  // `type name`, `type name[N]`, `type name[]`, `type * name`.
  const am = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[(\d*)\])?$/.exec(body);
  if (!am) throw new FormatError(file, `cannot parse field declaration: ${decl}`);
  let type = am[1]!.trim();
  const name = am[2]!;
  let arrayLength = 0;
  if (am[3] !== undefined) {
    if (am[4] !== undefined && am[4] !== '') arrayLength = Number(am[4]);
    type = `${type}[]`;
  }
  return { name, type, offset, size, signed, dataLoc, arrayLength };
}

/** Parses an event `format` file. `system` is the event's directory group. */
export function parseEventFormat(text: string, system: string, file = 'format'): FtraceEventFormat {
  let name: string | undefined;
  let id: number | undefined;
  const fields: FtraceField[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('name:')) name = line.slice(5).trim();
    else if (line.startsWith('ID:')) id = Number(line.slice(3).trim());
    else if (line.startsWith('print fmt:')) break;
    else {
      const f = parseFieldLine(line, file);
      if (f) fields.push(f);
    }
  }
  if (name === undefined || id === undefined || !Number.isInteger(id)) {
    throw new FormatError(file, 'missing name or ID');
  }
  if (fields.length === 0 || fields[0]!.name !== 'common_type') {
    throw new FormatError(file, 'first field is not common_type');
  }
  return { system, name, id, fields };
}

export function findField(fmt: FtraceEventFormat, name: string): FtraceField | undefined {
  for (const f of fmt.fields) if (f.name === name) return f;
  return undefined;
}

/** Parses `events/header_page`. */
export function parseHeaderPage(text: string, file = 'header_page'): PageHeaderLayout {
  const byName = new Map<string, FtraceField>();
  for (const line of text.split('\n')) {
    const f = parseFieldLine(line, file);
    // `overwrite` shares commit's offset (a flag bit inside it); keep the first one.
    if (f && !byName.has(f.name)) byName.set(f.name, f);
  }
  const ts = byName.get('timestamp');
  const commit = byName.get('commit');
  const data = byName.get('data');
  if (!ts || !commit || !data) throw new FormatError(file, 'missing timestamp, commit or data field');
  if (ts.size !== 8) throw new FormatError(file, `unsupported timestamp size ${ts.size}`);
  if (commit.size !== 8 && commit.size !== 4)
    throw new FormatError(file, `unsupported commit size ${commit.size}`);
  return {
    timestampOffset: ts.offset,
    timestampSize: ts.size,
    commitOffset: commit.offset,
    commitSize: commit.size,
    dataOffset: data.offset,
    dataSize: data.size,
  };
}

/** Parses `events/header_event` and checks it is the compressed header we know how to read. */
export function parseHeaderEvent(text: string, file = 'header_event'): EventHeaderLayout {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const layout = {
    typeLenBits: num(/type_len\s*:\s*(\d+)\s*bits/),
    timeDeltaBits: num(/time_delta\s*:\s*(\d+)\s*bits/),
    padding: num(/padding\s*:\s*type\s*==\s*(\d+)/),
    timeExtend: num(/time_extend\s*:\s*type\s*==\s*(\d+)/),
    timeStamp: num(/time_stamp\s*:\s*type\s*==\s*(\d+)/),
    dataMaxTypeLen: num(/data max type_len\s*==\s*(\d+)/),
  };
  for (const [k, v] of Object.entries(layout)) {
    if (v === undefined) throw new FormatError(file, `missing ${k}`);
  }
  const l = layout as EventHeaderLayout;
  if (l.typeLenBits !== 5 || l.timeDeltaBits !== 27) {
    throw new FormatError(file, `unsupported event header (${l.typeLenBits}/${l.timeDeltaBits} bits)`);
  }
  return l;
}
