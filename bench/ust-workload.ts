/**
 * Records the UST benchmark trace: a small C program emits N events of a tracepoint with
 * integer, string, float and array fields, traced by a private lttng-sessiond with namespace,
 * vpid/vtid and procname contexts, in blocking mode so that no event is lost.
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LttngSandbox, buildUstApp } from '../test/util/lttng.js';

export const PROVIDER = `
LTTNG_UST_TRACEPOINT_EVENT(bench_tp, request,
  LTTNG_UST_TP_ARGS(int, id, const char *, path, long, bytes, double, ratio, const unsigned char *, tag),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(int, id, id)
    lttng_ust_field_integer_hex(long, bytes, bytes)
    lttng_ust_field_string(path, path)
    lttng_ust_field_float(double, ratio, ratio)
    lttng_ust_field_array(unsigned char, tag, tag, 4)
  )
)
LTTNG_UST_TRACEPOINT_EVENT(bench_tp, tick,
  LTTNG_UST_TP_ARGS(int, n),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, n, n))
)`;

export const MAIN = `
#include <stdlib.h>
#include <stdio.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  static const char *paths[] = { "/var/lib/app/data.db", "/etc/hosts", "/proc/self/status", "/tmp/x" };
  unsigned char tag[4] = { 1, 2, 3, 4 };
  for (long i = 0; i < n; i++) {
    if (i % 4 == 3) lttng_ust_tracepoint(bench_tp, tick, (int) i);
    else lttng_ust_tracepoint(bench_tp, request, (int) i, paths[i & 3], i * 512, i / 7.0, tag);
  }
  return 0;
}`;

/** Total size in bytes of the stream files under a directory. */
export function traceBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    n += s.isDirectory() ? traceBytes(p) : s.size;
  }
  return n;
}

/** Records `events` events into `out` (reused when it already exists). */
export async function recordUstBenchTrace(out: string, events: number): Promise<string> {
  if (existsSync(`${out}.done`)) return out;
  rmSync(out, { recursive: true, force: true });
  const sb = await LttngSandbox.create('nstrace-bench-');
  try {
    const exe = await buildUstApp(join(sb.dir, 'app'), 'bench', 'bench_tp', PROVIDER, MAIN);
    await sb.lttng('create', 'bench', '-o', out);
    await sb.lttng(
      'enable-channel',
      '-u',
      'big',
      '--subbuf-size=1M',
      '--num-subbuf=8',
      '--blocking-timeout=inf',
    );
    await sb.lttng('enable-event', '-u', '-c', 'big', 'bench_tp:*');
    for (const t of ['vpid', 'vtid', 'procname', 'pid_ns', 'mnt_ns', 'net_ns', 'user_ns']) {
      await sb.lttng('add-context', '-u', '-c', 'big', '-t', t);
    }
    await sb.lttng('start');
    const r = await sb.exec([exe, String(events)], {
      env: { LTTNG_UST_ALLOW_BLOCKING: '1' },
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`workload failed: ${r.stderr}`);
    await sb.lttng('stop');
    await sb.lttng('destroy');
  } finally {
    await sb.destroy();
  }
  writeFileSync(`${out}.done`, String(events));
  return out;
}
