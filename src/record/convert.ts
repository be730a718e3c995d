/**
 * Compiles, per ftrace event id, a converter from the raw ftrace record to the payload of the
 * LTTng event lttng-modules would have written for the same tracepoint: a specialised function
 * (generated source, offsets folded) that copies bytes from the page into the packet.
 */
import type { StructFC } from '../ctf/ir.js';
import { findField, type FtraceEventFormat, type FtraceField } from './format.js';
import { LTTNG_SYSCALLS } from './syscall-table.js';
import { rwbsFromText, type FieldSource, type LttngField } from './lttng-events.js';
import { parseTypeCode, structFromCodes, type IntCode } from './types.js';
import type { Thread } from './thread.js';

/** Helpers the generated code calls for the non-trivial fields. */
export interface ConvHelpers {
  /**
   * Writes the string argument at address lo + hi * 2^32 of the current thread's syscall, or ""
   * when it is not provably the one the syscall saw (strings.ts).
   */
  userString(th: Thread, lo: number, hi: number, du: Uint8Array, o: number): number;
  /**
   * The same with the kernel's own copy from the record (`len` bytes at `pu[at]`, `__data_loc`
   * `__<arg>_val` fields of newer kernels).
   */
  kernelString(
    th: Thread,
    lo: number,
    hi: number,
    pu: Uint8Array,
    at: number,
    len: number,
    du: Uint8Array,
    o: number,
  ): number;
  /** A string argument of an exit event (the entry's pointer): "" (counted). */
  exitString(du: Uint8Array, o: number): number;
  /** Special fields (fork), filled by the state handler that runs before the payload. */
  special(name: string, dv: DataView, du: Uint8Array, o: number): number;
  /** ftrace rwbs text at `pu[at..at+n)` to LTTng's RWBS bit mask. */
  rwbs(pu: Uint8Array, at: number, n: number): number;
}

export type PayloadFn = (
  pv: DataView,
  pu: Uint8Array,
  s: number,
  dv: DataView,
  du: Uint8Array,
  o: number,
  th: Thread,
  h: ConvHelpers,
) => number;

/** Extra sources for syscall events. */
export type SyscallSource =
  | FieldSource
  /** User string at the pointer in the record's argument of that name. */
  | { user: string }
  /** Integer argument of the matching syscall entry, saved in the thread. */
  | { entryArg: number }
  /** User string at the pointer of an entry argument. */
  | { entryUser: number };

export interface PlanField {
  name: string;
  code: string;
  src: SyscallSource;
}

export interface CompiledPayload {
  fn: PayloadFn;
  fields: StructFC;
  /**
   * Upper bound of the payload size in bytes, plus the record's own length when `recordVar`
   * (strings copied from the record are no longer than the record).
   */
  maxSize: number;
  recordVar: boolean;
  source: string;
}

/** Longest user string copied (PATH_MAX, like lttng-modules). */
export const USER_STRING_MAX = 4096;

const h32 = (n: number): string => String(n);

function readIntExpr(view: string, off: string, size: number, signed: boolean): string {
  switch (size) {
    case 1:
      return `${view}.${signed ? 'getInt8' : 'getUint8'}(${off})`;
    case 2:
      return `${view}.${signed ? 'getInt16' : 'getUint16'}(${off}, true)`;
    case 4:
      return `${view}.${signed ? 'getInt32' : 'getUint32'}(${off}, true)`;
    default:
      throw new Error(`no single read for size ${size}`);
  }
}

/** Code writing integer `dst` from `size` bytes at `view[off]` (little-endian), into dv[o]. */
function genIntCopy(dst: IntCode, view: string, off: string, size: number, signed: boolean, add = 0): string {
  const D = dst.size / 8;
  if (dst.bigEndian) {
    // Only used for constants/statedump; keep generic.
    throw new Error('big-endian destination not supported in converters');
  }
  if (add !== 0) {
    const x = `(${readIntExpr(view, off, Math.min(size, 4), signed)} + ${add})`;
    if (D <= 4)
      return `dv.${D === 1 ? 'setUint8' : D === 2 ? 'setUint16' : 'setUint32'}(o, ${x}${D === 1 ? '' : ', true'}); o += ${D};\n`;
    return `{ const x = ${x}; dv.setUint32(o, x, true); dv.setInt32(o + 4, x < 0 ? -1 : 0, true); } o += 8;\n`;
  }
  if (D <= size) {
    // Same size or narrowing: the low bytes (little-endian).
    switch (D) {
      case 1:
        return `du[o] = ${view}.getUint8(${off}); o += 1;\n`;
      case 2:
        return `dv.setUint16(o, ${view}.getUint16(${off}, true), true); o += 2;\n`;
      case 4:
        return `dv.setUint32(o, ${view}.getUint32(${off}, true), true); o += 4;\n`;
      default:
        return `dv.setUint32(o, ${view}.getUint32(${off}, true), true); dv.setUint32(o + 4, ${view}.getUint32(${off} + 4, true), true); o += 8;\n`;
    }
  }
  // Widening: sign- or zero-extend.
  const x = readIntExpr(view, off, size, signed);
  switch (D) {
    case 2:
      return `dv.setUint16(o, ${x}, true); o += 2;\n`;
    case 4:
      return `dv.setUint32(o, ${x}, true); o += 4;\n`;
    default:
      return signed
        ? `{ const x = ${x}; dv.setUint32(o, x, true); dv.setInt32(o + 4, x < 0 ? -1 : 0, true); } o += 8;\n`
        : `dv.setUint32(o, ${x}, true); dv.setUint32(o + 4, 0, true); o += 8;\n`;
  }
}

function genConst(dst: IntCode, value: number): string {
  const D = dst.size / 8;
  if (D === 8) {
    return `dv.setUint32(o, ${value % 4294967296}, true); dv.setUint32(o + 4, ${Math.floor(value / 4294967296)}, true); o += 8;\n`;
  }
  return `dv.${D === 1 ? 'setUint8' : D === 2 ? 'setUint16' : 'setUint32'}(o, ${value}${D === 1 ? '' : ', true'}); o += ${D};\n`;
}

function genZeroInts(n: number): string {
  return n === 0 ? '' : `du.fill(0, o, o + ${n}); o += ${n};\n`;
}

/** Text array (`char[n]`, zero padded) from a record field. */
function genText(n: number, f: FtraceField | undefined): string {
  if (!f) return genZeroInts(n);
  if (f.dataLoc) {
    return (
      `{ const loc = pv.getUint32(s + ${f.offset}, true); const p = s + (loc & 0xffff); const len = loc >>> 16; let i = 0;\n` +
      `  for (; i < ${n} && i < len; i++) { const c = pu[p + i]; if (c === 0) break; du[o + i] = c; }\n` +
      `  for (; i < ${n}; i++) du[o + i] = 0; } o += ${n};\n`
    );
  }
  if (n === 16 && f.size === 16) {
    let c = '';
    for (let i = 0; i < 16; i += 4)
      c += `dv.setUint32(o + ${i}, pv.getUint32(s + ${f.offset + i}, true), true); `;
    return `${c}o += 16;\n`;
  }
  const m = Math.min(n, f.size);
  return `{ let i = 0; for (; i < ${m}; i++) du[o + i] = pu[s + ${f.offset} + i]; for (; i < ${n}; i++) du[o + i] = 0; } o += ${n};\n`;
}

/** NUL-terminated string from a record field (data_loc or char array). */
function genString(f: FtraceField | undefined): string {
  if (!f) return `du[o++] = 0;\n`;
  if (f.dataLoc) {
    return (
      `{ const loc = pv.getUint32(s + ${f.offset}, true); const p = s + (loc & 0xffff); const len = loc >>> 16;\n` +
      `  for (let i = 0; i < len; i++) { const c = pu[p + i]; if (c === 0) break; du[o++] = c; } du[o++] = 0; }\n`
    );
  }
  return `{ for (let i = 0; i < ${f.size}; i++) { const c = pu[s + ${f.offset} + i]; if (c === 0) break; du[o++] = c; } du[o++] = 0; }\n`;
}

function fieldOrThrow(fmt: FtraceEventFormat, name: string): FtraceField | undefined {
  return findField(fmt, name);
}

/**
 * Compiles the payload converter of one event. Unknown source fields give zeros (and are
 * reported in `missing`).
 */
export function compilePayload(
  fields: readonly PlanField[],
  fmt: FtraceEventFormat,
  entryFmt?: FtraceEventFormat,
): CompiledPayload & { missing: string[] } {
  let body = '';
  let maxSize = 0;
  let recordVar = false;
  const missing: string[] = [];
  const codes: Array<[string, string]> = [];
  for (const pf of fields) {
    codes.push([pf.name, pf.code]);
    const t = parseTypeCode(pf.code);
    const src = pf.src;
    if ('special' in src) {
      body += `o = h.special(${JSON.stringify(src.special)}, dv, du, o);\n`;
      maxSize += t.fixedSize >= 0 ? t.fixedSize : 1 + 32 * 4;
      continue;
    }
    if ('emptySeq' in src) {
      // The length field comes first (u64 for lttng-modules' size_t lengths).
      const lenBytes = (t.lengthBits ?? 64) / 8;
      body += genZeroInts(lenBytes);
      maxSize += lenBytes;
      continue;
    }
    if ('user' in src || 'entryUser' in src) {
      if ('user' in src) {
        const f = fieldOrThrow(fmt, src.user);
        if (!f) {
          missing.push(pf.name);
          body += 'du[o++] = 0;\n';
        } else {
          const lo = `pv.getUint32(s + ${f.offset}, true)`;
          const hi = f.size >= 8 ? `pv.getUint32(s + ${f.offset + 4}, true)` : '0';
          const kf = kernelCopyField(fmt, src.user);
          if (kf) {
            body += `{ const loc = pv.getUint32(s + ${kf.offset}, true); o = h.kernelString(th, ${lo}, ${hi}, pu, s + (loc & 0xffff), loc >>> 16, du, o); }\n`;
          } else body += `o = h.userString(th, ${lo}, ${hi}, du, o);\n`;
        }
      } else {
        // The call is over when its exit is converted: the pointer's memory says nothing about
        // what the syscall saw.
        body += 'o = h.exitString(du, o);\n';
      }
      maxSize += USER_STRING_MAX + 1;
      continue;
    }
    if (t.kind === 'string') {
      const f = 'from' in src ? fieldOrThrow(fmt, src.from) : undefined;
      if (!f) missing.push(pf.name);
      body += genString(f);
      if (f?.dataLoc) recordVar = true;
      maxSize += (f && !f.dataLoc ? f.size : 0) + 1;
      continue;
    }
    if (t.kind === 'text') {
      const f = 'from' in src ? fieldOrThrow(fmt, src.from) : undefined;
      if (!f) missing.push(pf.name);
      body += genText(t.length!, f);
      maxSize += t.length!;
      continue;
    }
    if (t.kind === 'intarray' || t.kind === 'seq') {
      // Arrays written from user memory by lttng-modules (pipe fds, ...): not in ftrace.
      if (t.kind === 'seq') throw new Error(`sequence field ${pf.name} needs a special source`);
      missing.push(pf.name);
      body += genZeroInts(t.fixedSize);
      maxSize += t.fixedSize;
      continue;
    }
    const int = t.int!;
    maxSize += int.size / 8;
    if ('constant' in src) {
      body += genConst(int, src.constant);
    } else if ('common' in src) {
      body += genIntCopy(int, 'pv', 's + 4', 4, true);
    } else if ('rwbs' in src) {
      const f = fieldOrThrow(fmt, src.rwbs);
      if (!f) {
        missing.push(pf.name);
        body += genConst(int, 0);
      } else if (f.dataLoc) {
        body += `{ const loc = pv.getUint32(s + ${f.offset}, true); dv.setUint32(o, h.rwbs(pu, s + (loc & 0xffff), loc >>> 16), true); } o += 4;\n`;
      } else {
        body += `dv.setUint32(o, h.rwbs(pu, s + ${f.offset}, ${f.size}), true); o += 4;\n`;
      }
    } else if ('entryArg' in src) {
      const at = src.entryArg * 8;
      body += `if (th.scId === ENTRY_ID && th.scArgs !== undefined) { const a = th.scView; ${genIntCopy(int, 'a', String(at), 8, false).replace(/\n$/, '')} } else { ${genZeroInts(int.size / 8).replace(/\n$/, '')} }\n`;
    } else if ('from' in src) {
      const f = fieldOrThrow(fmt, src.from);
      if (!f) {
        missing.push(pf.name);
        body += genConst(int, 0);
      } else if (f.dataLoc || f.arrayLength > 0) {
        missing.push(pf.name);
        body += genConst(int, 0);
      } else {
        body += genIntCopy(int, 'pv', `s + ${h32(f.offset)}`, f.size, f.signed, src.add ?? 0);
      }
    } else {
      missing.push(pf.name);
      body += genConst(int, 0);
    }
  }
  const entryId = entryFmt ? entryFmt.id : -1;
  const source = `"use strict";\nconst ENTRY_ID = ${entryId};\nreturn function convert(pv, pu, s, dv, du, o, th, h) {\n${body}return o;\n};`;
  const fn = new Function(source)() as PayloadFn;
  return { fn, fields: structFromCodes(codes), maxSize, recordVar, source, missing };
}

/** The rwbs helper, shared by all converters. */
export function rwbsFromBytes(pu: Uint8Array, at: number, n: number): number {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = pu[at + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return rwbsFromText(s);
}

// ---------------------------------------------------------------------------------------------
// Syscalls

/** lttng-modules type code for a syscall argument of C type `ctype` (for syscalls LTTng's table lacks). */
export function syscallArgCode(ctype: string): string {
  const t = ctype
    .replace(/__user|\bconst\b|\bstruct\b|\bunion\b|\benum\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (/\bchar \*$/.test(t) && /\bconst\b/.test(ctype)) return 's';
  if (t.endsWith('*') || t.endsWith('[]')) return 'u64';
  switch (t) {
    case 'int':
    case 'pid_t':
    case 'key_serial_t':
    case 'clockid_t':
    case 'timer_t':
    case 'mqd_t':
    case 'rwf_t':
    case 'key_t':
    case 's32':
    case '__s32':
      return 'i32';
    case 'unsigned int':
    case 'unsigned':
    case 'uid_t':
    case 'gid_t':
    case 'old_uid_t':
    case 'old_gid_t':
    case 'qid_t':
    case 'u32':
    case '__u32':
      return 'u32';
    case 'umode_t':
    case 'u16':
      return 'u16';
    case 'long':
    case 'loff_t':
    case 'off_t':
    case 'ssize_t':
    case 'time_t':
    case 'old_time_t':
    case 's64':
    case '__s64':
      return 'i64';
    default:
      return 'u64';
  }
}

export interface SyscallPlan {
  name: string;
  entryFields: PlanField[];
  exitFields: PlanField[];
  /** The exit needs the entry's arguments (out args, or namespace state). */
  needsArgs: boolean;
  /** Layout from lttng-modules' table (else derived from the ftrace format). */
  fromTable: boolean;
}

/**
 * A syscall argument of a `sys_enter_*` record (8 bytes each): not the common fields, not
 * `__syscall_nr`, not the kernel's copies of user strings (`__data_loc` fields at the end).
 */
export function isSyscallArg(f: FtraceField): boolean {
  return !f.name.startsWith('common_') && f.name !== '__syscall_nr' && !f.dataLoc;
}

function argIndex(fmt: FtraceEventFormat, name: string): number {
  let i = 0;
  for (const f of fmt.fields) {
    if (!isSyscallArg(f)) continue;
    if (f.name === name) return i;
    i++;
  }
  return -1;
}

export function argFields(fmt: FtraceEventFormat): FtraceField[] {
  return fmt.fields.filter(isSyscallArg);
}

/**
 * The kernel's copy of the user string an argument points to, on kernels whose syscall events
 * carry them (6.19+: `field:__data_loc char[] __filename_val;` after the arguments).
 */
export function kernelCopyField(fmt: FtraceEventFormat, arg: string): FtraceField | undefined {
  const f = findField(fmt, `__${arg}_val`);
  return f && f.dataLoc ? f : undefined;
}

/**
 * lttng-modules' names of syscall arguments that the kernel's syscall events name otherwise
 * (the same argument: lttng-modules renames it in its syscall tables).
 */
const ARG_ALIASES: Record<string, Record<string, string>> = {
  clone: { parent_tid: 'parent_tidptr', child_tid: 'child_tidptr' },
  getcpu: { tcache: 'unused' },
  mmap: { offset: 'off' },
  setns: { nstype: 'flags' },
  vmsplice: { iov: 'uiov' },
};

/** Syscalls whose exit updates the thread table from the entry's arguments. */
const STATEFUL_SYSCALLS = new Set(['unshare', 'setns']);

export function planSyscall(name: string, entry: FtraceEventFormat, _exit: FtraceEventFormat): SyscallPlan {
  const table = LTTNG_SYSCALLS[name];
  const entryFields: PlanField[] = [];
  const exitFields: PlanField[] = [];
  let needsArgs = STATEFUL_SYSCALLS.has(name);
  if (table) {
    const alias = ARG_ALIASES[name] ?? {};
    for (const spec of table[0].split(',').filter((x) => x.length > 0)) {
      const [fname, code] = spec.split(':') as [string, string];
      const arg = findField(entry, fname) === undefined ? (alias[fname] ?? fname) : fname;
      const src: SyscallSource = code === 's' ? { user: arg } : { from: arg };
      entryFields.push({ name: fname, code, src });
    }
    for (const spec of table[1].split(',').filter((x) => x.length > 0)) {
      const [fname, code] = spec.split(':') as [string, string];
      if (fname === 'ret') {
        exitFields.push({ name: fname, code, src: { from: 'ret' } });
        continue;
      }
      const i = argIndex(entry, findField(entry, fname) === undefined ? (alias[fname] ?? fname) : fname);
      if (i < 0) {
        exitFields.push({ name: fname, code, src: { constant: 0 } });
        continue;
      }
      needsArgs = true;
      exitFields.push({ name: fname, code, src: code === 's' ? { entryUser: i } : { entryArg: i } });
    }
    return { name, entryFields, exitFields, needsArgs, fromTable: true };
  }
  for (const f of argFields(entry)) {
    const code = syscallArgCode(f.type);
    entryFields.push({ name: f.name, code, src: code === 's' ? { user: f.name } : { from: f.name } });
  }
  exitFields.push({ name: 'ret', code: 'i64', src: { from: 'ret' } });
  return { name, entryFields, exitFields, needsArgs, fromTable: false };
}

/** Generic layout for an ftrace event without an lttng-modules mapping. */
export function genericFields(fmt: FtraceEventFormat): LttngField[] {
  const out: LttngField[] = [];
  for (const f of fmt.fields) {
    if (f.name.startsWith('common_')) continue;
    let code: string;
    if (f.dataLoc) {
      if (!/char/.test(f.type)) continue;
      code = 's';
    } else if (f.arrayLength > 0) {
      if (/char/.test(f.type)) code = `c${f.arrayLength}`;
      else continue;
    } else if (f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8) {
      const hex = /\*/.test(f.type);
      code = `${f.signed ? 'i' : 'u'}${f.size * 8}${hex ? 'x' : ''}`;
    } else continue;
    out.push({ name: f.name, code, src: { from: f.name } });
  }
  return out;
}

/** LTTng-style name of an ftrace event without a mapping: `system_event` unless redundant. */
export function genericName(system: string, event: string): string {
  return event.startsWith(`${system}_`) ? event : `${system}_${event}`;
}
