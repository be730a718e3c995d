/**
 * Real LTTng UST traces recorded by the test suite itself (lttng-sessiond + lttng-ust on this
 * machine), covering what LTTng writes in the field: every field type of the tracepoint macros,
 * all namespace contexts plus vpid/vtid/procname, processes inside `unshare`d pid/uts/ipc/mnt
 * namespaces, several channels, small sub-buffers (many packets), per-UID and per-PID buffers,
 * a discard-mode channel that loses events and an overwrite-mode channel.
 *
 * `recordUstScenarios()` records them once per process into a temporary directory and returns
 * the trace roots; differential tests (reader, print, filter) compare nstrace with babeltrace2
 * on them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LttngSandbox, buildUstApp } from './lttng.js';

export const ALL_CONTEXTS = [
  'pid_ns',
  'user_ns',
  'net_ns',
  'mnt_ns',
  'uts_ns',
  'ipc_ns',
  'cgroup_ns',
  'time_ns',
  'vpid',
  'vtid',
  'procname',
];

/** A tracepoint provider using every field macro of lttng-ust 2.13. */
export const TYPES_PROVIDER = `
LTTNG_UST_TRACEPOINT_ENUM(types_tp, color,
  LTTNG_UST_TP_ENUM_VALUES(
    lttng_ust_field_enum_value("RED", 0)
    lttng_ust_field_enum_range("GREEN..BLUE", 1, 2)
    lttng_ust_field_enum_value("BIG", 1000000)
    lttng_ust_field_enum_auto("AUTO")
  )
)
LTTNG_UST_TRACEPOINT_EVENT(types_tp, ints,
  LTTNG_UST_TP_ARGS(long, i),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(int8_t, s8, (int8_t) -i)
    lttng_ust_field_integer(uint8_t, u8, (uint8_t) i)
    lttng_ust_field_integer(int16_t, s16, (int16_t) (-i * 300))
    lttng_ust_field_integer(uint16_t, u16, (uint16_t) (i * 300))
    lttng_ust_field_integer(int32_t, s32, (int32_t) (-i * 70000))
    lttng_ust_field_integer(uint32_t, u32, (uint32_t) (i * 70000))
    lttng_ust_field_integer(int64_t, s64, (int64_t) (-i * 5000000000LL))
    lttng_ust_field_integer(uint64_t, u64, (uint64_t) (i * 5000000000ULL))
    lttng_ust_field_integer(uint64_t, u64max, (uint64_t) 0xffffffffffffffffULL - i)
    lttng_ust_field_integer(int64_t, s64min, (int64_t) (-0x7fffffffffffffffLL - 1 + i))
    lttng_ust_field_integer_hex(uint32_t, h32, (uint32_t) (0xdeadbeef + i))
    lttng_ust_field_integer_hex(uint64_t, h64, (uint64_t) (0xffff880012345678ULL + i))
    lttng_ust_field_integer_network(int32_t, n32, (int32_t) (i * 1234567))
    lttng_ust_field_integer_network_hex(uint16_t, nh16, (uint16_t) (0x1234 + i))
    lttng_ust_field_enum(types_tp, color, int, col, (int) (i % 4 == 3 ? 1000000 : i % 3))
  )
)
LTTNG_UST_TRACEPOINT_EVENT(types_tp, reals,
  LTTNG_UST_TP_ARGS(long, i),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_float(float, f, (float) i / 3.0f)
    lttng_ust_field_float(double, d, (double) i / 7.0 - 1e10)
    lttng_ust_field_float(double, tiny, (double) i * 1e-300)
    lttng_ust_field_float(double, huge, (double) i * 1.5e300)
  )
)
LTTNG_UST_TRACEPOINT_EVENT(types_tp, texts,
  LTTNG_UST_TP_ARGS(long, i, const char *, s, const char *, buf, unsigned int, n),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_string(str, s)
    lttng_ust_field_array_text(char, arrtext, buf, 8)
    lttng_ust_field_sequence_text(char, seqtext, buf, unsigned int, n)
    lttng_ust_field_array(int, arr, ((int[]) { (int) i, -1, 2 }), 3)
    lttng_ust_field_sequence(uint8_t, seq, (const uint8_t *) buf, unsigned int, n)
    lttng_ust_field_array_network(uint16_t, narr, ((uint16_t[]) { 1, 258 }), 2)
  )
)`;

export const TYPES_MAIN = `
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100;
  static const char *strs[] = { "", "hello", "tab\\tnew\\nline", "caf\\xc3\\xa9 \\xe2\\x82\\xac", "quote\\"back\\\\slash", "\\x01\\x7f ctrl" };
  for (long i = 0; i < n; i++) {
    char buf[16];
    memset(buf, 0, sizeof buf);
    strcpy(buf, i % 5 == 0 ? "" : i % 5 == 1 ? "abc" : "longer!!");
    lttng_ust_tracepoint(types_tp, ints, i);
    lttng_ust_tracepoint(types_tp, reals, i);
    lttng_ust_tracepoint(types_tp, texts, i, strs[i % 6], buf, (unsigned int) (i % 5 == 0 ? 0 : strlen(buf) + (i % 2)));
  }
  return 0;
}`;

export interface UstScenario {
  name: string;
  /** Trace root (the session output directory). */
  dir: string;
  description: string;
}

let cached: Promise<UstScenario[]> | undefined;

/** Records every scenario once per process. */
export function recordUstScenarios(): Promise<UstScenario[]> {
  cached ??= record();
  return cached;
}

async function record(): Promise<UstScenario[]> {
  const root = mkdtempSync(join(tmpdir(), 'nstrace-ust-scenarios-'));
  const sb = await LttngSandbox.create();
  const out: UstScenario[] = [];
  try {
    const exe = await buildUstApp(join(root, 'app'), 'types', 'types_tp', TYPES_PROVIDER, TYPES_MAIN);
    const ns = ['unshare', '--pid', '--fork', '--uts', '--ipc', '--mount', '--mount-proc'];

    // 1. Per-UID buffers, two channels with small sub-buffers, every context, processes on the
    //    host and inside unshared namespaces.
    {
      const dir = join(root, 'uid-contexts');
      await sb.lttng('create', 'uidctx', '-o', dir);
      await sb.lttng(
        'enable-channel',
        '-u',
        'small',
        '--subbuf-size=4096',
        '--num-subbuf=8',
        '--blocking-timeout=inf',
      );
      await sb.lttng(
        'enable-channel',
        '-u',
        'other',
        '--subbuf-size=8192',
        '--num-subbuf=4',
        '--blocking-timeout=inf',
      );
      await sb.lttng('enable-event', '-u', '-c', 'small', 'types_tp:ints,types_tp:texts');
      await sb.lttng('enable-event', '-u', '-c', 'other', 'types_tp:reals');
      await sb.lttng('add-context', '-u', '-c', 'small', ...ALL_CONTEXTS.flatMap((t) => ['-t', t]));
      await sb.lttng('add-context', '-u', '-c', 'other', '-t', 'vpid', '-t', 'pid_ns', '-t', 'procname');
      await sb.lttng('start');
      const env = { LTTNG_UST_ALLOW_BLOCKING: '1' };
      await mustRun(sb.exec([exe, '300'], { env }));
      await mustRun(sb.exec([exe, '200'], { env, wrap: ns }));
      await mustRun(
        sb.exec(['sh', '-c', `hostname ctr1 && ${exe} 100`], { env, wrap: [...ns, '--net', '--cgroup'] }),
      );
      await sb.lttng('stop');
      await sb.lttng('destroy');
      out.push({
        name: 'uid-contexts',
        dir,
        description: 'per-UID, 2 channels, 4 KiB sub-buffers, all contexts, host + unshared namespaces',
      });
    }

    // 2. Per-PID buffers: one trace per process.
    {
      const dir = join(root, 'pid-buffers');
      await sb.lttng('create', 'pidbuf', '-o', dir);
      await sb.lttng(
        'enable-channel',
        '-u',
        '--buffers-pid',
        'chan',
        '--subbuf-size=8192',
        '--num-subbuf=4',
        '--blocking-timeout=inf',
      );
      await sb.lttng('enable-event', '-u', '-c', 'chan', 'types_tp:*');
      await sb.lttng(
        'add-context',
        '-u',
        '-c',
        'chan',
        '-t',
        'vpid',
        '-t',
        'vtid',
        '-t',
        'pid_ns',
        '-t',
        'mnt_ns',
      );
      await sb.lttng('start');
      const env = { LTTNG_UST_ALLOW_BLOCKING: '1' };
      await mustRun(sb.exec([exe, '150'], { env }));
      await mustRun(sb.exec([exe, '150'], { env, wrap: ns }));
      await sb.lttng('stop');
      await sb.lttng('destroy');
      out.push({ name: 'pid-buffers', dir, description: 'per-PID buffers, two processes' });
    }

    // 3. Discard mode with tiny buffers and no blocking: the tracer drops events.
    {
      const dir = join(root, 'discard');
      await sb.lttng('create', 'disc', '-o', dir);
      await sb.lttng(
        'enable-channel',
        '-u',
        'tiny',
        '--discard',
        '--subbuf-size=4096',
        '--num-subbuf=2',
        '--switch-timer=0',
      );
      await sb.lttng('enable-event', '-u', '-c', 'tiny', 'types_tp:*');
      await sb.lttng('add-context', '-u', '-c', 'tiny', '-t', 'vtid');
      await sb.lttng('start');
      await mustRun(sb.exec([exe, '20000']));
      await sb.lttng('stop');
      await sb.lttng('destroy');
      out.push({ name: 'discard', dir, description: 'discard mode, 2 x 4 KiB sub-buffers: lost events' });
    }

    // 4. Overwrite (flight recorder) mode: old packets are overwritten.
    {
      const dir = join(root, 'overwrite');
      await sb.lttng('create', 'ovw', '-o', dir);
      await sb.lttng('enable-channel', '-u', 'ring', '--overwrite', '--subbuf-size=4096', '--num-subbuf=4');
      await sb.lttng('enable-event', '-u', '-c', 'ring', 'types_tp:*');
      await sb.lttng('start');
      await mustRun(sb.exec([exe, '20000']));
      await sb.lttng('stop');
      await sb.lttng('destroy');
      out.push({ name: 'overwrite', dir, description: 'overwrite mode, 4 x 4 KiB sub-buffers' });
    }
  } finally {
    await sb.destroy();
  }
  return out;
}

async function mustRun(p: Promise<{ code: number; stderr: string }>): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`workload failed (${r.code}): ${r.stderr}`);
}
