/**
 * Differential tests on a FRESH recording: `nstrace record` (its default event set: scheduler,
 * wakeups, IRQs, softirqs, block, network, page events and every syscall, with the statedump)
 * while bench/analyses-workload.sh keeps the host busy with CPU, disk writes with fsync, loopback
 * TCP and the interrupts these raise; then one analysis of each family, and the logs of three of
 * them (every latency, request and interrupt, in order), against its lttng-analyses 0.6.1 twin,
 * text and LAMI, as in lttng-families.test.ts.
 *
 * Needs root and tracefs (skipped otherwise, with the reason); run it under the system lock:
 * `flock /tmp/nstrace-system.lock npx vitest run test/analyses/recorded.test.ts`. The recording
 * is short (about 2 s of workload, a few hundred thousand events) because lttng-analyses reads
 * some 50 k events/s: one to two minutes in all on a quiet 2-core machine.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, NSTRACE } from '../helpers/cli.js';
import { hasCommand, skipReason, tmpDir } from '../record/helpers.js';
import { cleanupLinks, compare } from './lttng-peer.js';

const reason =
  skipReason() ?? (!hasCommand('lttng-schedstats') ? 'lttng-analyses is not installed' : undefined);
if (reason) console.warn(`SKIPPING recorded lttng-analyses tests: ${reason}`);

const WORKLOAD = path.resolve(__dirname, '../../bench/analyses-workload.sh');
let out = '';
let trace = '';

function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((res, rej) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', rej);
    c.on('close', (code) => res({ code: code ?? -1, stderr: err }));
  });
}

beforeAll(async () => {
  if (reason) return;
  ensureBuilt();
  out = tmpDir('analyses-rec');
  const rec = run(['node', NSTRACE, 'record', '-o', out, '--duration', '3500ms']);
  // The recorder's statedump and setup take a moment; the workload then runs 2 s.
  await new Promise((r) => setTimeout(r, 1000));
  const w = await run(['sh', WORKLOAD, '2', path.join(out, 'scratch')]);
  if (w.code !== 0) throw new Error(`workload failed: ${w.stderr}`);
  const r = await rec;
  if (r.code !== 0) throw new Error(`nstrace record failed: ${r.stderr}`);
  trace = path.join(out, 'kernel');
}, 120_000);

afterAll(() => {
  cleanupLinks();
  if (out && !process.env.KEEP_TRACE) fs.rmSync(out, { recursive: true, force: true });
});

/**
 * A recording on which an analysis differs is kept (each run records anew, and the test
 * removes its directory): copied under the system temporary directory, its path printed.
 */
function keepFailed(cmd: string): void {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), `nstrace-recorded-${cmd}-differs-`));
  fs.cpSync(out, dest, { recursive: true });
  console.warn(`KEPT the recording on which ${cmd} differs from lttng-analyses: ${dest}`);
}

const IRQ_P =
  'irq:$evt.$name == "irq_handler_entry" : $evt.$name == "irq_handler_exit" && $evt.irq == $begin.$evt.irq';

describe.skipIf(reason !== undefined)('analyses on a fresh nstrace recording vs lttng-analyses', () => {
  for (const [cmd, args] of [
    ['schedstats', ['--top', '--freq']],
    // The logs print every latency, request and interrupt, in order.
    ['schedlog', []],
    ['iousagetop', []],
    ['iolatencystats', []],
    ['iolog', []],
    ['irqstats', ['--freq']],
    ['irqlog', []],
    ['periodstats', ['--period', IRQ_P]],
  ] as Array<[string, string[]]>) {
    it(`${cmd} ${args.join(' ')}`, async () => {
      const r = await compare(cmd, trace, args);
      if (r.text !== '' || r.mi !== '') keepFailed(cmd);
      expect(r.text, 'text').toBe('');
      expect(r.mi, 'LAMI').toBe('');
    }, 600_000);
  }
});
