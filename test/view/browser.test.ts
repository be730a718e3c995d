/**
 * `nstrace view` in a real headless Chromium (Debian's, driven by playwright-core): the page
 * loads the bundled sample, names its containers, draws the timelines, zooms and pans, answers a
 * filter typed into the events table as `nstrace print` does, and the static export works
 * offline. A screenshot of each view is kept in test-artifacts/view/ (gitignored) for people to
 * look at. The server listens on loopback only.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, NSTRACE, nstrace } from '../helpers/cli.js';
import type { Browser, ViewProcess } from '../util/browser.js';
import { launchBrowser, startView } from '../util/browser.js';

const ROOT = resolve(__dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'view');
const SAMPLE = join(ROOT, 'samples', 'containers-live');
/** Container colours of the page (src/view/page/colors.ts), in the sample's order. */
const WEB_RGB = [0x4f, 0x9c, 0xf9];
const HOST_RGB = [0x8a, 0x94, 0xa6];

interface Perf {
  interactive: number | null;
  redraws: Array<{ view: string; quick: number; full: number }>;
  pending: number;
  window: { t0: number; t1: number };
  focus: number | null;
  tab: string;
  threadRows: number;
}

// Code run in the page is written as strings: the page's globals are not this program's.
const perf = async (page: Page): Promise<Perf> => (await page.evaluate('window.__nstraceView')) as Perf;
const READY = "document.body.dataset.ready === '1'";

async function settle(page: Page): Promise<void> {
  await page.waitForFunction('window.__nstraceView.pending === 0', null, { timeout: 30_000 });
  // Two frames: the redraw after the data.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
}

const COUNT = `(sel, c, tol) => {
  const cv = document.querySelector(sel);
  const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (Math.abs(d[i] - c[0]) < tol && Math.abs(d[i + 1] - c[1]) < tol && Math.abs(d[i + 2] - c[2]) < tol) n++;
  return n;
}`;

/** Pixels of a canvas (`sel`) close to `rgb`. */
async function countPixels(page: Page, sel: string, rgb: number[], tol = 6): Promise<number> {
  return (await page.evaluate(
    `(${COUNT})(${JSON.stringify(sel)}, ${JSON.stringify(rgb)}, ${tol})`,
  )) as number;
}

/** Pixels of the visible pane's canvas close to `rgb`. */
function countColour(page: Page, pane: string, rgb: number[]): Promise<number> {
  return countPixels(page, `${pane} canvas`, rgb);
}

const visible = (sel: string): string =>
  `getComputedStyle(document.querySelector('${sel}')).display !== 'none'`;
const text = (sel: string): string => `document.querySelector('${sel}')?.textContent ?? ''`;

function hostHeader(url: string, host: string): Promise<number> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path: '/api/summary', headers: { host } }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', rej);
    req.end();
  });
}

/** Whether /proc/net/tcp{,6} has a listening socket on `port` and on which addresses. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== '0A') continue;
      const [addr, p] = local.split(':');
      if (parseInt(p!, 16) === port) out.push(addr!);
    }
  }
  return out;
}

describe('nstrace view in Chromium', () => {
  let browser: Browser;
  let view: ViewProcess;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    view = await startView(NSTRACE, []);
    browser = await launchBrowser();
    page = await browser.ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // The 400 answer to the filter syntax error the test types is expected.
      if (m.type() === 'error' && !/status of 400/.test(m.text())) errors.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    const code = await view?.stop();
    expect(code).toBe(0);
  });

  it('listens on loopback only and refuses foreign Host headers', async () => {
    const u = new URL(view.url);
    expect(u.hostname).toBe('127.0.0.1');
    expect(listeners(Number(u.port))).toEqual(['0100007F']);
    expect(await hostHeader(view.url, `127.0.0.1:${u.port}`)).toBe(200);
    expect(await hostHeader(view.url, `localhost:${u.port}`)).toBe(200);
    expect(await hostHeader(view.url, 'attacker.example:80')).toBe(403);
  });

  it('loads the sample and names its containers', async () => {
    await page.goto(view.url);
    await page.waitForFunction(READY, null, { timeout: 60_000 });
    const legend = await page.locator('ul.legend .lg-name').allTextContents();
    expect(legend).toEqual(['[HOST]', 'web', 'db', 'cache', 'sh']);
    const types = await page.locator('ul.legend .lg-type').allTextContents();
    expect(types.map((t) => t.split(' ')[0])).toEqual(['host', 'docker', 'podman', 'lxc', 'unshare']);
    const rows = await page.locator('.containers-view table.list tbody tr td.name').allTextContents();
    expect(rows).toEqual(['[HOST]', 'web', 'db', 'cache', 'sh']);
    // The four charts are drawn (uPlot canvases with the containers' colours).
    expect(await page.locator('.containers-view .chart canvas').count()).toBe(4);
    const webPixels = await countPixels(page, '.containers-view .chart canvas', WEB_RGB, 40);
    expect(webPixels).toBeGreaterThan(2000);
    const p = await perf(page);
    expect(p.interactive).not.toBeNull();
    await page.screenshot({ path: join(ARTIFACTS, '1-containers.png') });
  });

  it('draws the CPU lanes in the containers’ colours, with details on hover', async () => {
    await page.keyboard.press('2');
    await settle(page);
    expect((await perf(page)).tab).toBe('cpus');
    expect(await countColour(page, '#pane-cpus', WEB_RGB)).toBeGreaterThan(20_000);
    expect(await countColour(page, '#pane-cpus', HOST_RGB)).toBeGreaterThan(1_000);
    // CPU 1 runs web's busy loop most of the time: hover in its lane.
    const box = (await page.locator('#pane-cpus canvas').boundingBox())!;
    const cpu1Y = box.y;
    let found = '';
    for (let x = box.x + box.width * 0.6; x < box.x + box.width - 10 && found === ''; x += 25) {
      for (let y = cpu1Y + 40; y < cpu1Y + 320 && found === ''; y += 20) {
        await page.mouse.move(x, y);
        const t = await page.locator('.tooltip').textContent();
        if ((await page.locator('.tooltip').isVisible()) && t !== null && /container\s*web/.test(t))
          found = t;
      }
    }
    expect(found).toMatch(/threadtid \d+/);
    expect(found).toMatch(/processpid \d+/);
    await page.screenshot({ path: join(ARTIFACTS, '2-cpus.png') });
  });

  it('zooms and pans, from the keyboard and the mouse, and redraws at the new resolution', async () => {
    const before = await perf(page);
    const span0 = before.window.t1 - before.window.t0;
    await page.keyboard.press('w');
    await page.keyboard.press('w');
    await page.keyboard.press('w');
    await settle(page);
    const zoomed = await perf(page);
    const span1 = zoomed.window.t1 - zoomed.window.t0;
    expect(span1 / span0).toBeCloseTo(0.75 ** 3, 5);
    await page.keyboard.press('d');
    await settle(page);
    const panned = await perf(page);
    expect(panned.window.t0 - zoomed.window.t0).toBeCloseTo(span1 * 0.15, -1);
    // Mouse wheel over the lanes zooms in around the pointer.
    const box = (await page.locator('#pane-cpus canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 120);
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -200);
    await settle(page);
    const wheeled = await perf(page);
    expect(wheeled.window.t1 - wheeled.window.t0).toBeLessThan(span1 / 3);
    const r = wheeled.redraws.filter((x) => x.view === 'cpus');
    expect(r.length).toBeGreaterThanOrEqual(5);
    for (const x of r) expect(x.full).toBeGreaterThanOrEqual(x.quick);
    // Zoomed in, slices are wide enough to carry their thread's name.
    expect(await countColour(page, '#pane-cpus', WEB_RGB)).toBeGreaterThan(10_000);
    await page.screenshot({ path: join(ARTIFACTS, '3-cpus-zoomed.png') });
    await page.keyboard.press('0');
    await settle(page);
    const reset = await perf(page);
    expect(reset.window).toEqual(before.window);
  });

  it('shows threads grouped by container and process, and folds them by keyboard', async () => {
    await page.keyboard.press('3');
    await settle(page);
    expect(await countColour(page, '#pane-threads', WEB_RGB)).toBeGreaterThan(5_000);
    const rows0 = (await perf(page)).threadRows;
    expect(rows0).toBeGreaterThan(10);
    await page.screenshot({ path: join(ARTIFACTS, '4-threads.png') });
    await page.locator('#pane-threads canvas').focus();
    await page.keyboard.press('Enter'); // fold the first container (web)
    await settle(page);
    expect((await perf(page)).threadRows).toBeLessThan(rows0);
    await page.keyboard.press('Enter');
    await settle(page);
    expect((await perf(page)).threadRows).toBe(rows0);
  });

  it('highlights a container everywhere', async () => {
    await page.keyboard.press('c'); // [HOST]
    await page.keyboard.press('c'); // web
    await settle(page);
    const p = await perf(page);
    expect(p.focus).toBe(1);
    expect(await page.locator('ul.legend li.focused .lg-name').textContent()).toBe('web');
    await page.keyboard.press('Escape');
    expect((await perf(page)).focus).toBeNull();
  });

  it('answers a filter typed into the events table as nstrace print does', async () => {
    await page.keyboard.press('4');
    await page.waitForFunction(`/event/.test(${text('.ev-status')})`);
    await page.locator('input.filter').fill('ret < 0');
    await page.locator('input[aria-label="--container"]').fill('db');
    await page.keyboard.press('Enter');
    await page.waitForFunction("!document.querySelector('.events-view').classList.contains('busy')");
    await page.waitForFunction(`/\\d+ events?/.test(${text('.ev-status')})`);
    const lines = await page.locator('.ev-line').allTextContents();
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(/ret = -\d+/);
    const keys = (await page.evaluate(
      "[...document.querySelectorAll('.ev-line')].map((e) => e.getAttribute('data-container'))",
    )) as string[];
    expect(new Set(keys)).toEqual(new Set(['2'])); // db
    const cmd = (await page.locator('code.cmd').textContent())!;
    expect(cmd).toMatch(
      /^nstrace print --begin \d+\.\d{9} --end \d+\.\d{9} --filter 'ret < 0' --container db /,
    );
    const m = /--begin (\S+) --end (\S+)/.exec(cmd)!;
    const cli = nstrace([
      'print',
      '--begin',
      m[1]!,
      '--end',
      m[2]!,
      '--filter',
      'ret < 0',
      '--container',
      'db',
      SAMPLE,
    ]);
    expect(cli.code).toBe(0);
    expect(lines).toEqual(cli.stdout.trimEnd().split('\n'));
    await page.screenshot({ path: join(ARTIFACTS, '5-events.png') });

    // A syntax error points at its column.
    await page.locator('input.filter').fill('ret <<< 0');
    await page.keyboard.press('Enter');
    await page.waitForFunction(visible('.ev-error'));
    expect(await page.locator('.ev-error').textContent()).toMatch(
      /^filter: column \d+: .*\n {4}ret <<< 0\n {4} *\^/,
    );
    expect(await page.locator('input.filter').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: join(ARTIFACTS, '6-events-error.png') });
  });

  it('had no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});

describe('nstrace view --html', () => {
  let browser: Browser;
  const out = join(tmpdir(), `nstrace-view-${process.pid}.html`);
  afterAll(async () => {
    await browser?.close();
    rmSync(out, { force: true });
  });

  it('writes one self-contained file that works offline', async () => {
    ensureBuilt();
    const r = nstrace(['view', '--html', out, SAMPLE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .* \(\d+\.\d MiB\)\n$/);
    const html = readFileSync(out, 'utf8');
    // Nothing to fetch: no external script, style or request.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
    expect(statSync(out).size).toBeLessThan(8 << 20);
    browser = await launchBrowser();
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(`file://${out}`);
    await page.waitForFunction(READY, null, { timeout: 60_000 });
    expect(await page.locator('ul.legend .lg-name').allTextContents()).toEqual([
      '[HOST]',
      'web',
      'db',
      'cache',
      'sh',
    ]);
    expect(await page.locator('.badge').textContent()).toBe('static export');
    await page.keyboard.press('2');
    await settle(page);
    expect(await countColour(page, '#pane-cpus', WEB_RGB)).toBeGreaterThan(20_000);
    await page.keyboard.press('w');
    await settle(page);
    await page.keyboard.press('3');
    await settle(page);
    expect(await countColour(page, '#pane-threads', WEB_RGB)).toBeGreaterThan(2_000);
    // The export holds print's first lines: the whole trace's window shows them, a window past
    // them none, with a note.
    await page.keyboard.press('0');
    await page.keyboard.press('4');
    await page.waitForFunction(`/event/.test(${text('.ev-status')})`);
    expect(await page.locator('.ev-line').count()).toBe(2000);
    await page.keyboard.press('w');
    await page.keyboard.press('d');
    await page.keyboard.press('d');
    await page.locator('button.run').click();
    await page.waitForFunction(`/no event matches/.test(${text('.ev-status')})`);
    expect(await page.locator('.ev-status').textContent()).toMatch(
      /the first 2000 lines of print for the trace \(up to \+0\.\d+ s\)/,
    );
    await page.keyboard.press('0');
    await page.locator('button.run').click();
    await page.waitForFunction(`/2000 events/.test(${text('.ev-status')})`);
    await page.screenshot({ path: join(ARTIFACTS, '7-static-events.png') });
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
  });
});
