/**
 * Differential tests of the scheduling, I/O, IRQ and period analyses against lttng-analyses 0.6.1
 * (Debian python3-lttnganalyses), live: for every command, `nstrace X` prints lttng-X's text
 * followed by our per-container tables, and `nstrace X --mi` prints lttng-X-mi's LAMI document,
 * character for character, plus our `per-container*` tables; on every kernel trace of the public
 * set that lttng-analyses reads and that has the events, with the commands' options.
 *
 * lttng-analyses' outputs are cached in the OS temporary directory (test/analyses/lttng-peer.ts):
 * the first run takes a few minutes.
 *
 * CI time: by default every command runs on every trace of its family with its default options
 * (the bar: every analysis, every trace) plus a few option sets; the full matrix of option sets
 * (130 cases, each one peer run of seconds to a minute on a 2-core machine) runs when
 * NSTRACE_LTTNG_FULL=1 asks for it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { cleanupLinks, compare } from './lttng-peer.js';

const FIX = resolve(__dirname, '../fixtures');
const SHARED = '/work/shared/traces';
const SYNTH = (n: string): string => `${FIX}/lttng-analyses-synthetic/${n}/kernel`;
const TC = (n: string): string => `${SHARED}/tracecompass-test-traces/${n}`;
const ROTATION = `${FIX}/babeltrace/lttng-tracefile-rotation/kernel`;

beforeAll(() => ensureBuilt());
afterAll(() => cleanupLinks());

interface Case {
  readonly cmd: string;
  readonly trace: string;
  readonly args?: readonly string[];
}

const FULL = process.env.NSTRACE_LTTNG_FULL === '1';

/** An option-matrix case: run by default when `always`, else only with NSTRACE_LTTNG_FULL=1. */
function option(c: Case, always = false): void {
  if (FULL || always) check(c);
}

function check(c: Case): void {
  const label = `${c.cmd} ${(c.args ?? []).join(' ')} on ${c.trace.replace(/^.*\/(fixtures|traces)\//, '')}`;
  it(
    label,
    async () => {
      if (!existsSync(c.trace)) throw new Error(`missing trace ${c.trace}`);
      const r = await compare(c.cmd, c.trace, c.args ?? []);
      expect(r.text, 'text').toBe('');
      expect(r.mi, 'LAMI').toBe('');
      // The peer reads many-threads' 1 M events in minutes on a loaded 2-core machine.
    },
    600_000,
  );
}

const SCHED = ['schedstats', 'schedtop', 'schedlog', 'schedfreq'];

describe('scheduling latency: schedstats, schedtop, schedlog, schedfreq', () => {
  for (const trace of [TC('bug446190'), TC('many-threads'), SYNTH('cputop')]) {
    for (const cmd of SCHED) check({ cmd, trace });
  }
  for (const cmd of SCHED) check({ cmd, trace: ROTATION, args: ['--no-intersection'] });
  const T = TC('bug446190');
  for (const args of [
    ['--total'],
    ['--per-prio'],
    ['--total', '--per-tid', '--per-prio'],
    ['--min', '10', '--max', '500'],
    ['--freq-resolution', '7', '--min', '5'],
    ['--freq-uniform', '--per-prio', '--per-tid'],
    ['--freq-series', '--per-prio', '--per-tid'],
    ['--tid', '1,3,184,424'],
    ['--procname', 'kworker/0:2,dlt-daemon'],
    ['--cpu', '1'],
    ['--refresh', '0.5'],
    ['--begin', '2014-10-07 08:36:03', '--end', '2014-10-07 08:36:05.500000000'],
    ['--timerange', '[08:36:02.500000000,08:36:04.000000000]'],
    ['--stats', '--log', '--top', '--freq', '--limit', '3'],
  ]) {
    option({ cmd: 'schedstats', trace: T, args }, args.includes('--log'));
    option({ cmd: 'schedfreq', trace: T, args }, args.includes('--log'));
  }
  option({ cmd: 'schedtop', trace: T, args: ['--limit', '25'] });
  option({ cmd: 'schedlog', trace: TC('many-threads'), args: ['--refresh', '100ms'] });
});

const IO = ['iousagetop', 'iolatencytop', 'iolatencystats', 'iolatencyfreq', 'iolog'];

describe('I/O: iousagetop, iolatencytop, iolatencystats, iolatencyfreq, iolog', () => {
  for (const trace of [SYNTH('io'), TC('bug446190'), TC('many-threads')]) {
    for (const cmd of IO) check({ cmd, trace });
  }
  const T = TC('bug446190');
  for (const args of [
    ['--limit', '3'],
    ['--min', '50', '--max', '5000'],
    ['--minsize', '100', '--maxsize', '4096'],
    ['--freq-resolution', '5'],
    ['--refresh', '1'],
    ['--begin', '2014-10-07 08:36:03', '--end', '2014-10-07 08:36:05.500000000'],
    ['--usage', '--stats', '--top', '--log', '--freq'],
  ]) {
    option({ cmd: 'iolatencystats', trace: T, args }, args.includes('--log'));
    option({ cmd: 'iousagetop', trace: T, args }, args.includes('--log'));
  }
  option({
    cmd: 'iolog',
    trace: T,
    args: ['--begin', '2014-10-07 08:36:03', '--end', '2014-10-07 08:36:05.500000000'],
  });
  option({ cmd: 'iolatencytop', trace: T, args: ['--timerange', '[08:36:02.500000000,08:36:04.000000000]'] });
});

const IRQ = ['irqstats', 'irqfreq', 'irqlog'];

describe('interrupts: irqstats, irqfreq, irqlog', () => {
  // many-threads names its softirq events irq_softirq_* (lttng-modules 2.8): the peer reads a
  // copy with the names it knows (test/analyses/lttng-peer.ts).
  for (const trace of [SYNTH('irq'), TC('many-threads'), TC('flipping-endianness')]) {
    for (const cmd of IRQ) check({ cmd, trace });
  }
  // bug446190 (ARM, a 100 ns clock) has many simultaneous events on several CPUs: the logs show
  // them in babeltrace 1's order (src/ctf/reader.ts, order 'babeltrace1').
  const T = TC('bug446190');
  for (const cmd of IRQ) check({ cmd, trace: T });
  for (const args of [
    ['--freq-uniform'],
    ['--freq-series'],
    ['--min', '3', '--max', '40'],
    ['--irq', '27'],
    ['--softirq', '1,7'],
    ['--irq', '27', '--softirq', '9'],
    ['--stats', '--freq'],
    ['--stats', '--freq', '--log'],
    ['--cpu', '1'],
    ['--refresh', '1'],
    ['--freq-resolution', '6'],
  ]) {
    option({ cmd: 'irqstats', trace: T, args }, args.includes('--log'));
    option({ cmd: 'irqfreq', trace: T, args }, args.includes('--log'));
  }
  option({ cmd: 'irqlog', trace: TC('many-threads'), args: ['--softirq', '1,4', '--cpu', '2'] });
});

const PERIOD = ['periodlog', 'periodtop', 'periodstats', 'periodfreq'];

describe('periods: periodlog, periodtop, periodstats, periodfreq', () => {
  const IRQ_P =
    'irq:$evt.$name == "irq_handler_entry" : $evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq';
  const SW =
    'sw:$evt.$name == "sched_switch":$evt.$name == "sched_switch" && $evt.cpu_id == $begin.$evt.cpu_id';
  const SW_CAP = 'sw:tid=$evt.next_tid,$evt.next_comm:prev=$evt.prev_tid,$begin.$evt.prev_comm';
  // lttng-modules 2.5 names: sys_*, exit_syscall; a child period of sw on the same CPU.
  const SYS =
    'sys(sw):$evt.$name =* "sys_*" && $evt.cpu_id == $parent.$begin.$evt.cpu_id:$evt.$name == "exit_syscall" && $evt.cpu_id == $begin.$evt.cpu_id';
  const SYS_CAP = 'sys:call=$evt.$name:ret=$evt.ret';
  for (const cmd of PERIOD) {
    check({ cmd, trace: TC('flipping-endianness'), args: ['--period', IRQ_P] });
    check({ cmd, trace: TC('bug446190'), args: ['--period', SW, '--period-captures', SW_CAP] });
    option(
      {
        cmd,
        trace: TC('bug446190'),
        args: ['--period', SW, '--period', SYS, '--period-captures', SYS_CAP],
      },
      cmd === 'periodstats',
    );
  }
  const T = TC('bug446190');
  const nested = ['--period', SW, '--period', SYS];
  option({ cmd: 'periodlog', trace: T, args: [...nested, '--order-by', 'hierarchy'] });
  option({
    cmd: 'periodstats',
    trace: T,
    args: [...nested, '--min-duration', '20', '--max-duration', '50000'],
  });
  option({ cmd: 'periodstats', trace: T, args: [...nested, '--select', 'sys'] });
  option({ cmd: 'periodfreq', trace: T, args: [...nested, '--freq-uniform', '--freq-resolution', '8'] });
  option({ cmd: 'periodtop', trace: T, args: [...nested, '--select', 'sw', '--limit', '4'] });
  // Number literals of every digit (a parser once took only 0 and 9 first).
  const CPU1 =
    'cpu1:$evt.$name == "sched_switch" && $evt.cpu_id == 1 && $evt.next_tid > 7:$evt.$name == "sched_switch" && $evt.cpu_id <= 2.5e0 && $evt.prev_tid != 0';
  check({ cmd: 'periodlog', trace: T, args: ['--period', CPU1] });
  option({
    cmd: 'periodstats',
    trace: T,
    args: [...nested, '--begin', '2014-10-07 08:36:03', '--end', '2014-10-07 08:36:05.500000000'],
  });
});
