/**
 * Container selectors on a userspace trace recorded here with lttng-sessiond and lttng-ust: one
 * process on the host and two in `unshare`d pid namespaces (named by their inode, as no
 * container event names them), in a channel with `pid_ns` and `vtid` contexts and in one with
 * `pid_ns` only. What each event's namespace is comes from LTTng's own `pid_ns` context in the
 * text, not from nstrace's model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import { LttngSandbox, buildUstApp } from '../util/lttng.js';

const HOST_PID_NS = 4026531836;

const PROVIDER = `
LTTNG_UST_TRACEPOINT_EVENT(ctr_tp, tick,
  LTTNG_UST_TP_ARGS(int, i),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, i, i))
)
LTTNG_UST_TRACEPOINT_EVENT(ctr_tp, tock,
  LTTNG_UST_TP_ARGS(int, i),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, i, i))
)`;

const MAIN = `
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  for (int i = 0; i < n; i++) {
    lttng_ust_tracepoint(ctr_tp, tick, i);
    lttng_ust_tracepoint(ctr_tp, tock, i);
  }
  return 0;
}`;

let root = '';
let trace = '';

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'nstrace-integ-ust-'));
  const exe = await buildUstApp(join(root, 'app'), 'ctr', 'ctr_tp', PROVIDER, MAIN);
  const sb = await LttngSandbox.create();
  try {
    trace = join(root, 'trace');
    await sb.lttng('create', 'ctr', '-o', trace);
    await sb.lttng('enable-channel', '-u', 'a', '--blocking-timeout=inf');
    await sb.lttng('enable-channel', '-u', 'b', '--blocking-timeout=inf');
    await sb.lttng('enable-event', '-u', '-c', 'a', 'ctr_tp:tick');
    await sb.lttng('enable-event', '-u', '-c', 'b', 'ctr_tp:tock');
    await sb.lttng('add-context', '-u', '-c', 'a', '-t', 'pid_ns', '-t', 'vtid');
    await sb.lttng('add-context', '-u', '-c', 'b', '-t', 'pid_ns');
    await sb.lttng('start');
    const env = { LTTNG_UST_ALLOW_BLOCKING: '1' };
    const ns = ['unshare', '--pid', '--fork', '--mount-proc'];
    // The two namespaced runs at once: a freed namespace's inode number can be given to the
    // next one, and the test needs two distinct namespaces.
    const runs = await Promise.all([
      sb.exec([exe, '30'], { env }),
      sb.exec(['sh', '-c', '"$0" 20; sleep 1', exe], { env, wrap: ns }),
      sb.exec(['sh', '-c', '"$0" 10; sleep 1', exe], { env, wrap: ns }),
    ]);
    for (const r of runs) if (r.code !== 0) throw new Error(`workload failed: ${r.stderr}`);
    await sb.lttng('stop');
    await sb.lttng('destroy');
  } finally {
    await sb.destroy();
  }
}, 600_000);

afterAll(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

function print(args: string[]): string[] {
  const r = nstrace(['print', '--no-delta', ...args, trace]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('print with container selectors on an lttng-ust trace (pid_ns contexts)', () => {
  it('selects by the pid namespace of each event', () => {
    const all = print([]);
    const nsOf = (l: string): number => Number(/pid_ns = (\d+)/.exec(l)![1]);
    const inodes = [...new Set(all.map(nsOf))];
    expect(inodes.length).toBe(3);
    expect(inodes).toContain(HOST_PID_NS);
    const [a, b] = inodes.filter((i) => i !== HOST_PID_NS) as [number, number];
    const where = (p: (ns: number) => boolean): string[] => all.filter((l) => p(nsOf(l)));
    expect(where((n) => n === a).length).toBeGreaterThan(0);
    expect(print(['--host'])).toEqual(where((n) => n === HOST_PID_NS));
    expect(print(['--container', String(a)])).toEqual(where((n) => n === a));
    expect(print(['--container', `pidns:${b}`])).toEqual(where((n) => n === b));
    expect(print(['--container-type', 'unknown'])).toEqual(where((n) => n !== HOST_PID_NS));
    expect(print(['--filter', `$container.pid_ns == ${b} && i < 5`])).toEqual(
      where((n) => n === b).filter((l) => Number(/ i = (\d+)/.exec(l)![1]) < 5),
    );
    expect(print(['--filter', '$container.name == "4026*"', '--event', 'ctr_tp:tock'])).toEqual(
      where((n) => n !== HOST_PID_NS).filter((l) => l.includes('ctr_tp:tock')),
    );
  });
});
