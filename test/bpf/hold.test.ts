/** The hold of syscall entries whose strings the exit reads (src/record/bpf/hold.ts), with fakes. */
import { describe, expect, it } from 'vitest';
import { REREAD_SYSCALLS, StringHold, patchEntry } from '../../src/record/bpf/hold.js';
import { FLAG_STR_UNKNOWN, HDR_STR_FAILED, HDR_STR_MASK } from '../../src/record/bpf/layout.js';

/** A fake record: its name in byte 0..n (the hold never looks inside). */
const rec = (name: string): Uint8Array => new TextEncoder().encode(name);
const names = (out: Uint8Array[]): string[] => out.map((r) => new TextDecoder().decode(r));

function setup(limits?: { maxBytes: number; maxAgeNs: number }): { h: StringHold; out: Uint8Array[] } {
  const out: Uint8Array[] = [];
  const h = new StringHold((r) => out.push(r), limits);
  return { h, out };
}

describe('StringHold', () => {
  it('passes records through when nothing waits on their stream', () => {
    const { h, out } = setup();
    expect(h.queue(0, 1, () => rec('a'))).toBe(false);
    expect(h.active).toBe(0);
    expect(out).toEqual([]);
  });

  it('holds an entry and the later records of its stream, not the other streams', () => {
    const { h, out } = setup();
    h.hold(0, 100, 10, rec('entry'));
    expect(h.queue(0, 11, () => rec('irq'))).toBe(true);
    expect(h.queue(1, 12, () => rec('cpu1'))).toBe(false); // written directly by the caller
    expect(h.queue(0, 13, () => rec('switch'))).toBe(true);
    expect(h.active).toBe(3);
    expect(h.heldSince(0)).toBe(10);
    expect(h.heldSince(1)).toBe(Infinity);
    h.resolve(100, () => rec('entry+str'));
    expect(names(out)).toEqual(['entry+str', 'irq', 'switch']);
    expect(h.active).toBe(0);
    expect(h.stats).toEqual({ held: 1, givenUp: 0 });
    // Nothing waits any more: the next record goes straight through.
    expect(h.queue(0, 14, () => rec('x'))).toBe(false);
  });

  it('keeps a stream in order when a later entry is resolved first', () => {
    const { h, out } = setup();
    h.hold(0, 1, 10, rec('e1'));
    h.queue(0, 11, () => rec('r1'));
    h.hold(0, 2, 12, rec('e2'));
    h.queue(0, 13, () => rec('r2'));
    h.resolve(2, () => rec('e2+'));
    expect(out).toEqual([]);
    h.resolve(1, () => rec('e1+'));
    expect(names(out)).toEqual(['e1+', 'r1', 'e2+', 'r2']);
  });

  it('stops draining at the next waiting entry', () => {
    const { h, out } = setup();
    h.hold(0, 1, 10, rec('e1'));
    h.queue(0, 11, () => rec('r1'));
    h.hold(0, 2, 12, rec('e2'));
    h.queue(0, 13, () => rec('r2'));
    h.resolve(1, undefined);
    expect(names(out)).toEqual(['e1', 'r1']);
    expect(h.heldSince(0)).toBe(12);
    expect(h.stats.givenUp).toBe(1);
    h.resolve(2, undefined);
    expect(names(out)).toEqual(['e1', 'r1', 'e2', 'r2']);
  });

  it('an entry of a task whose previous one still waits gives the previous one up', () => {
    const { h, out } = setup();
    h.hold(0, 7, 10, rec('old'));
    h.hold(1, 7, 20, rec('new'));
    expect(names(out)).toEqual(['old']);
    expect(h.isWaiting(7)).toBe(true);
    h.resolve(7, () => rec('new+'));
    expect(names(out)).toEqual(['old', 'new+']);
  });

  it('gives up entries that wait too long or hold too many bytes', () => {
    const { h, out } = setup({ maxBytes: 20, maxAgeNs: 100 });
    h.hold(0, 1, 10, rec('e1'));
    h.queue(1, 50, () => rec('c1'));
    h.expire();
    expect(out).toEqual([]);
    h.queue(1, 111, () => rec('c1')); // 101 ns after the entry
    h.expire();
    expect(names(out)).toEqual(['e1']);
    h.hold(0, 2, 200, rec('e2'));
    h.queue(0, 201, () => rec('0123456789'));
    h.expire();
    expect(out.length).toBe(1);
    h.queue(0, 202, () => rec('0123456789')); // 24 bytes held
    h.expire();
    expect(names(out)).toEqual(['e1', 'e2', '0123456789', '0123456789']);
    expect(h.stats.givenUp).toBe(2);
  });

  it('releaseAll writes every held record, in order per stream', () => {
    const { h, out } = setup();
    h.hold(0, 1, 10, rec('a'));
    h.queue(0, 11, () => rec('b'));
    h.hold(1, 2, 12, rec('c'));
    h.queue(1, 13, () => rec('d'));
    h.releaseAll();
    expect(names(out)).toEqual(['a', 'b', 'c', 'd']);
    expect(h.active).toBe(0);
  });
});

describe('REREAD_SYSCALLS', () => {
  it('never a syscall that replaces the address space or writes user memory', () => {
    for (const n of ['execve', 'execveat', 'newfstatat', 'statx', 'readlinkat', 'getxattr', 'read'])
      expect(REREAD_SYSCALLS.has(n), n).toBe(false);
    expect(REREAD_SYSCALLS.has('openat')).toBe(true);
  });
});

describe('patchEntry', () => {
  /** An entry: 16-byte header, 8 bytes of raw record, then its strings. */
  function entry(strings: string[], pending: number, failed: number): Uint8Array {
    const s = strings.map((x) => `${x}\0`).join('');
    const r = new Uint8Array(24 + s.length);
    r[12] = FLAG_STR_UNKNOWN;
    r[HDR_STR_MASK] = pending;
    r[HDR_STR_FAILED] = failed;
    r.set(new TextEncoder().encode(s), 24);
    return r;
  }
  const strs = (r: Uint8Array): string[] => new TextDecoder().decode(r.subarray(24)).split('\0').slice(0, -1);
  const z = (...s: string[]): Uint8Array => new TextEncoder().encode(s.map((x) => `${x}\0`).join(''));

  it('puts the exit strings in place of the unread ones', () => {
    const e = entry(['', 'kept', ''], 0b101, 0b101);
    const { rec: r, recovered } = patchEntry(e, 24, z('/etc/ld.so.cache', '/x'), 0b101);
    expect(strs(r)).toEqual(['/etc/ld.so.cache', 'kept', '/x']);
    expect(recovered).toBe(2);
    expect(r[12]! & FLAG_STR_UNKNOWN).toBe(0);
    expect(r[HDR_STR_MASK]).toBe(0);
  });

  it('leaves a string the exit could not read unknown', () => {
    const e = entry(['', ''], 0b11, 0b11);
    const { rec: r, recovered } = patchEntry(e, 24, z('', '/b'), 0b10);
    expect(strs(r)).toEqual(['', '/b']);
    expect(recovered).toBe(1);
    expect(r[12]! & FLAG_STR_UNKNOWN).toBe(FLAG_STR_UNKNOWN);
  });

  it('keeps the flag for a string unread at entry and not left for the exit', () => {
    const e = entry(['', ''], 0b10, 0b11);
    const { rec: r } = patchEntry(e, 24, z('/b'), 0b10);
    expect(strs(r)).toEqual(['', '/b']);
    expect(r[12]! & FLAG_STR_UNKNOWN).toBe(FLAG_STR_UNKNOWN);
  });

  it('an empty string read at entry (openat("")) is not unknown', () => {
    const e = entry(['', ''], 0b10, 0b10);
    const { rec: r } = patchEntry(e, 24, z('/b'), 0b10);
    expect(strs(r)).toEqual(['', '/b']);
    expect(r[12]! & FLAG_STR_UNKNOWN).toBe(0);
  });
});
