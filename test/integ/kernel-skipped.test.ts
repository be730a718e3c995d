/**
 * Events the kernel skipped (the bpf recorder's `nstrace_kernel_skipped { count, tracepoints }`
 * markers at the end of its trace: counted, at no known time or CPU) reach every reader of the
 * trace: the analyses warn, `nstrace sql` has them in `machine.skipped_events`, and `nstrace
 * view` in its summary, its warnings and its page header (in a real browser).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineInputs, streamRangesOf } from '../../src/analyses/open.js';
import { analyse } from '../../src/analyses/session.js';
import { loadTraces, SqlEngine } from '../../src/sql/index.js';
import { writeSampleTrace } from '../../src/synthetic/simulate.js';
import { buildViewData } from '../../src/view/build.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import { writeIrqIoTrace } from '../sql/irq-io-trace.js';
import type { Browser } from '../util/browser.js';
import { launchBrowser } from '../util/browser.js';

const SKIPPED: ReadonlyArray<readonly [number, string]> = [
  [37, 'irq:irq_handler_entry,irq:irq_handler_exit'],
  [5, 'block:block_rq_issue'],
];
const TOTAL = 42;

let dir = '';
let browser: Browser | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nstrace-kernel-skipped-'));
  writeSampleTrace(join(dir, 'kernel'), { seed: 3, durationNs: 30_000_000 });
  writeIrqIoTrace(join(dir, 'kernel'), join(dir, 'irq-io'), 5, SKIPPED);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('events the kernel skipped', () => {
  it('the analyses count them and warn', async () => {
    const [m] = machineInputs([dir]);
    const ts = m!.open();
    try {
      const r = await analyse(ts, ['cputop', 'irq'], { streamRanges: () => streamRangesOf(ts) });
      expect(r.summary.kernelSkipped).toBe(TOTAL);
      expect(r.warnings.join('\n')).toMatch(
        new RegExp(`^the kernel skipped ${TOTAL} events of the recording`, 'm'),
      );
    } finally {
      ts.close();
    }
  });

  it('nstrace sql: machine.skipped_events', async () => {
    const engine = await SqlEngine.open();
    try {
      await loadTraces(engine, [dir], ['machine'], {});
      const r = await engine.query('SELECT skipped_events, lost_events FROM machine');
      expect(r.rows.map((row) => row.map(Number))).toEqual([[TOTAL, 0]]);
    } finally {
      engine.close();
    }
  });

  it('nstrace view: the summary, the warnings and the page header', async () => {
    const d = await buildViewData([dir], { version: 'test' });
    expect(d.summary.kernelSkipped).toBe(TOTAL);
    expect(d.summary.warnings.join('\n')).toMatch(new RegExp(`the kernel skipped ${TOTAL} events`));
    ensureBuilt();
    const out = join(dir, 'view.html');
    const r = nstrace(['view', '--html', out, dir]);
    expect(r.code, r.stderr).toBe(0);
    browser = await launchBrowser();
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${out}`);
    await page.waitForFunction("document.body.dataset.ready === '1'", null, { timeout: 60_000 });
    const warns = await page.locator('header .warn, .warn').allTextContents();
    expect(warns).toContain(`${TOTAL} events skipped by the kernel`);
    expect(errors).toEqual([]);
  }, 120_000);
});
