/**
 * Pure pieces of the bpf backend: kernel ABI numbers, syscall numbers, the cgroup statedump walk,
 * selection errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syscallNumber } from '../../src/record/bpf/syscalls.js';
import { cgroupStatedump, cgroup2Root } from '../../src/record/bpf/cgroups.js';
import { Selection, hasRecordSelection } from '../../src/record/bpf/select.js';
import { contextLayout } from '../../src/record/bpf/kernel.js';
import { rawOffset, scratchSize, HDR, STR_MAX } from '../../src/record/bpf/layout.js';
import { UsageError } from '../../src/util/errors.js';
import { BPF_CMD } from '../../src/bpf/sys.js';

describe('bpf backend, pure parts', () => {
  it('bpf(2) commands: the values of enum bpf_cmd (include/uapi/linux/bpf.h) we call', () => {
    expect(BPF_CMD.MAP_CREATE).toBe(0);
    expect(BPF_CMD.MAP_LOOKUP_ELEM).toBe(1);
    expect(BPF_CMD.MAP_UPDATE_ELEM).toBe(2);
    expect(BPF_CMD.MAP_DELETE_ELEM).toBe(3);
    expect(BPF_CMD.PROG_LOAD).toBe(5);
    expect(BPF_CMD.PROG_GET_NEXT_ID).toBe(11);
    expect(BPF_CMD.PROG_GET_FD_BY_ID).toBe(13);
    expect(BPF_CMD.OBJ_GET_INFO_BY_FD).toBe(15);
    expect(BPF_CMD.RAW_TRACEPOINT_OPEN).toBe(17);
    expect(BPF_CMD.BTF_LOAD).toBe(18);
    expect(BPF_CMD.LINK_CREATE).toBe(28);
  });

  it('syscall numbers, with the names ftrace gives a few of them', () => {
    expect(syscallNumber('read')).toBe(0);
    expect(syscallNumber('openat')).toBe(257);
    // ftrace names the kernel's definitions: newstat is stat(2), umount is umount2(2).
    expect(syscallNumber('newstat')).toBe(4);
    expect(syscallNumber('newfstat')).toBe(5);
    expect(syscallNumber('newuname')).toBe(63);
    expect(syscallNumber('umount')).toBe(166);
    expect(syscallNumber('no_such_syscall')).toBeUndefined();
  });

  it('the context block: packed in --context order; the raw record 8-aligned after it', () => {
    const l = contextLayout(['pid_ns', 'procname', 'cgroup_id', 'tid']);
    expect([...l.offsets]).toEqual([
      ['pid_ns', 0],
      ['procname', 4],
      ['cgroup_id', 20],
      ['tid', 28],
    ]);
    expect(l.size).toBe(32);
    expect(rawOffset(['pid_ns', 'procname', 'cgroup_id', 'tid'])).toBe(HDR + 32);
    expect(rawOffset(['tid'])).toBe(HDR + 8);
    // Room for three strings after a syscall entry's record.
    expect(scratchSize(['tid'], 64)).toBeGreaterThanOrEqual(rawOffset(['tid']) + 64 + 3 * STR_MAX);
  });

  it('the cgroup statedump: every directory, ids are inode numbers, / first', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nstrace-cg-'));
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.mkdirSync(path.join(root, 'c'));
    const cg = cgroupStatedump(root);
    expect(cg.map((c) => c.path).sort()).toEqual(['/', '/a', '/a/b', '/c']);
    expect(cg[0]!.path).toBe('/');
    for (const c of cg) expect(c.id).toBe(BigInt(fs.statSync(path.join(root, c.path)).ino));
    fs.rmSync(root, { recursive: true });
  });

  it('selection: what counts as one, and clear errors', () => {
    expect(hasRecordSelection(undefined)).toBe(false);
    expect(hasRecordSelection({ containers: [] })).toBe(false);
    expect(hasRecordSelection({ pidNs: [4026531836] })).toBe(true);
    expect(() => new Selection({ pidNs: [0] }, () => undefined)).toThrow(UsageError);
    if (cgroup2Root() !== undefined)
      expect(() => new Selection({ cgroups: ['/no/such/cgroup/here'] }, () => undefined)).toThrow(
        /no such cgroup/,
      );
  });
});
