/**
 * Expressions of the differential test against real LTTng (lttng-differential.test.ts). Each is
 * given to `lttng enable-event -u --filter` in its own session while the nsfilt workload runs,
 * and to nstrace on the unfiltered session's trace; the event sets must be equal.
 *
 * Values of the workload: see workload/nsfilt.c (4 processes: nsf-host on the host, nsf-pidns
 * in a new pid+mount namespace, nsf-misc in new uts/ipc/net/cgroup/time namespaces, nsf-user in
 * a new user namespace as uid/gid 1000; each emits 48 rounds of 5 events from its main thread
 * (i = 0..47) and 48 from a second thread (i = 500..547)).
 *
 * `@NETNS@` and `@MNTNS@` are replaced by the inodes of the host's network namespace and of the
 * sandbox's mount namespace (the workload processes that do not unshare them run there).
 *
 * Not here, on purpose (known differences, see docs/filter.md): `$ctx.ip` (lttng-ust cannot
 * filter on it, nstrace can), a sequence index past the length of a non-empty sequence
 * (lttng-ust 2.13 reads past the end), an integer array element compared with a string
 * (crashes the traced application with lttng-ust 2.13.5).
 */
export interface DiffCase {
  /** `lttng enable-event -u` event names (default `nsfilt:*`). */
  readonly events?: string;
  readonly exclude?: string;
  readonly filter?: string;
  /** What it covers. */
  readonly what: string;
}

export const CASES: readonly DiffCase[] = [
  // Integers: sizes, signedness, bases, byte order, int64 view of unsigned 64-bit values.
  { filter: 's8 == 1', what: 'signed 8-bit' },
  { filter: 'u8 == 255', what: 'unsigned 8-bit' },
  { filter: 's16 == -32768 || u16 > 32767', what: '16-bit, both signs' },
  { filter: 's32 < 0 && u32 == 4294967295', what: '32-bit' },
  { filter: 's64 == 9007199254740993', what: 'int64 beyond 2^53 (exact)' },
  { filter: 's64 < -9007199254740992 || s64 == -9223372036854775808', what: 'int64 minimum' },
  { filter: 'u64 > 0', what: 'unsigned 64-bit compared as int64 (2^63.. are negative)' },
  { filter: 'u64 == -1 || x64 == 0xfffffffffffffffe', what: 'u64 max as -1, hex field' },
  { filter: 'u64 == 18446744073709551615 || u64 == 99999999999999999999', what: 'u64 constants, saturating' },
  { filter: 'u64 >= 0x8000000000000000', what: 'hex constant 2^63 is INT64_MIN' },
  { filter: 'n32 == 16777216 || nx16 == 0xefbe', what: 'big-endian fields' },
  { filter: 'i == 010 || i == 0x1F || i == 42u', what: 'octal, hex, suffixed constants' },
  { filter: 'i == 1.0 || i > 546.5', what: 'integer against float constant' },
  // Floats.
  { filter: 'f64 == 1 || f32 == 0.5', what: 'float against integer and float constants' },
  { filter: 'f64 > 1.4 && f64 < 1.6', what: 'float range' },
  { filter: 'f64 == 17.34e9 || f64 == .5 || f64 == 0x1p-1 || f32 == 3.25f', what: 'float constant forms' },
  { filter: '!f64', what: '! on a float is == 0' },
  { filter: '-f64 < 0', what: 'unary minus on a float' },
  { filter: 'i < 10 || f64', what: 'float operand of || is truncated' },
  { filter: 'f64 && i < 520', what: 'float operand of && is truncated' },
  { filter: 'f64', what: 'float field alone is false' },
  { filter: 'f64 == f32', what: 'float fields compared' },
  // Strings and globbing.
  { filter: 'str == "hello"', what: 'plain string' },
  { filter: 'str == "h*"', what: 'star at the end: prefix' },
  { filter: 'str == "*llo"', what: 'leading star: full glob' },
  { filter: 'str == "h*l*o"', what: 'several stars' },
  { filter: 'str == "*" && i < 20', what: 'lone star matches every string, also empty' },
  { filter: 'str != "h*"', what: '!= with a pattern' },
  { filter: 'str == "h\\*llo"', what: 'escaped star is literal' },
  { filter: 'str == "\\**"', what: 'escaped star then wildcard' },
  { filter: 'str == "star\\*" || str == "*\\*"', what: 'escaped star at the end' },
  { filter: 'str == "a\\\\b"', what: 'escaped backslash' },
  { filter: 'str == ""', what: 'empty string' },
  { filter: 'str == "192.168.*"', what: 'man page example' },
  { filter: 'str == \'x\' || str == L"a"', what: 'character constant and L prefix are strings' },
  { filter: 'str < "b"', what: 'string relational' },
  { filter: 'str >= "hello*"', what: 'relational with a star-at-end literal' },
  { filter: 'str == "hé*" || str > "h\\*"', what: 'UTF-8 literal against bytes, signed-char ordering' },
  { filter: 'str == str', what: 'string field against itself' },
  { filter: 'atext == "hello*" || atext == "hello wo"', what: 'text array (truncated to 8)' },
  { filter: 'atext == str', what: 'text array against string field' },
  { filter: 'stext == "hello w*" || stext == ""', what: 'text sequence' },
  // Arrays, sequences, enums.
  { filter: 'arr4[3] == 7 && arr4[0] > 40', what: 'array index' },
  { filter: 'arr4[2] == 3000 || arr4[4] == 7', what: 'index past a fixed array: false for the class' },
  { filter: 'seq[0] >= 10', what: 'sequence index, empty sequences false' },
  { filter: 'seq[0] == 0 || i < 3', what: 'empty sequence fails before ||' },
  { filter: 'i < 3 || seq[0] == 0', what: 'short-circuit skips the failing index' },
  { filter: 'craw[1] == 42 || hexbytes[0] == 2', what: 'non-text char array, hex array' },
  { filter: 'arr4 == 0 || i == 5', what: 'array as a value: false for the class' },
  { filter: 'color == 150 || color >= 2 && color < 5', what: 'enum value' },
  { filter: 'color', what: 'enum alone' },
  // Missing fields and type mismatches.
  { filter: 's8 == 1 || f64 > 0', what: 'missing field in one branch: false for the class' },
  { filter: 'i < 1000 || str == 5', what: 'string against number: false for the class' },
  { filter: 'i < 10 || str', what: 'string operand of ||: false for the class' },
  { filter: 'str', what: 'field alone: integer in mixed, string in text' },
  { filter: 'i == str || i < 10', what: 'same name, other types per class' },
  { filter: '-str == 1 || !str', what: 'unary on a string: false for the class' },
  { filter: 'i->x == 1 || a.$ctx == 1', what: 'member of a non-structure' },
  // Operators and precedence.
  { filter: '2 & 2 == 2 && i < 3', what: 'bitwise binds tighter than ==' },
  { filter: 's8 & 3 == 3', what: '& then ==' },
  { filter: 's8 ^ 1 == 0 || s8 | 1 == 1', what: '^ and |' },
  { filter: 's8 | 1 ^ 3 & 6 == 3', what: '| ^ & precedence' },
  { filter: '~s8 == 0 || ~0 == s8', what: '~ on int64' },
  { filter: '-s8 == 1 || +s8 == 100', what: 'unary minus and plus' },
  { filter: '!s8 || !!u16 == 0', what: '! and !!' },
  { filter: '- -s8 == 1', what: 'double minus' },
  { filter: '(s64 >> 63) == 1', what: '>> is a logical shift on uint64' },
  { filter: '(s8 << 56) < 0', what: '<< wraps to int64' },
  { filter: '(1 << i) > 0', what: 'shift count past 63 fails per event' },
  { filter: 'i < 3 || (1 >> 64) == 0', what: 'constant shift past 63 fails when evaluated' },
  { filter: '(i == 1) == 1 || i < 5 < 1', what: 'comparison results are 0/1' },
  { filter: 's8 == 1 && i < 10 || i == 500', what: '&& binds tighter than ||' },
  { filter: 'i == 3 || i == 4 && i == 5', what: '|| of && ' },
  { filter: '!(i < 540) && (i > 544 || i == 541)', what: 'parentheses' },
  { filter: 'i == 1 /* one */ || i == 2 // two', what: 'comments' },
  { filter: '1.5 && i == 3', what: 'float constant operand of &&' },
  // Contexts, including every namespace.
  { filter: '$ctx.vpid == $ctx.vtid', what: 'vpid/vtid: main threads' },
  { filter: '$ctx.vtid > $ctx.vpid && i == 510', what: 'second threads' },
  { filter: '$ctx.procname == "nsf-p*"', what: 'procname glob' },
  {
    filter: '$ctx.pthread_id != 0 && $ctx.procname == $ctx.procname && i == 2',
    what: 'pthread_id, context vs context',
  },
  { filter: '$ctx.pid_ns == 4026531836', what: 'pid_ns (host)' },
  { filter: '$ctx.user_ns != 4026531837', what: 'user_ns' },
  { filter: '$ctx.uts_ns == 4026531838 && $ctx.ipc_ns == 4026531839', what: 'uts_ns, ipc_ns' },
  { filter: '$ctx.cgroup_ns != 4026531835 || $ctx.time_ns != 4026531834', what: 'cgroup_ns, time_ns' },
  { filter: '$ctx.net_ns == @NETNS@', what: 'net_ns' },
  { filter: '$ctx.mnt_ns == @MNTNS@', what: 'mnt_ns' },
  { filter: '$ctx.vuid == 1000 && $ctx.veuid == 1000 && $ctx.vsuid == 1000', what: 'vuid, veuid, vsuid' },
  { filter: '$ctx.vgid != 0 || $ctx.vegid != 0 || $ctx.vsgid != 0', what: 'vgid, vegid, vsgid' },
  { filter: '$ctx.cpu_id == 0', what: 'cpu_id (packet context offline)' },
  { filter: '$ctx[1].vpid == $ctx.vpid && i == 7', what: 'index on $ctx ignored' },
  { filter: '$ctx.vpid', what: 'context alone' },
  { filter: '$ctx.procname', what: 'string context alone is false' },
  { filter: '$app.foo:bar == 1', what: 'app context without provider' },
  { filter: 'i < 10 || $app.foo:bar == 1', what: 'app context fails only when evaluated' },
  // Event-name selection.
  { events: 'nsfilt:t*', what: 'name glob' },
  { events: 'nsfilt:*', exclude: 'nsfilt:text,nsfilt:m*', what: 'exclusion list' },
  { events: 'nsfilt:*', exclude: 'nsfilt:*s', what: 'exclusion glob' },
  { events: 'nsfilt:ints,nsfilt:floats', what: 'name list' },
  { events: '*ts', what: 'leading star' },
  { events: '*', what: 'everything, statedump included' },
  { events: '*:*', filter: 'i < 2', what: 'names and filter' },
  { events: 'nsfilt:e*', filter: 'color == 1', what: 'names and filter' },
];
