/**
 * The 2018 scenario end to end: a tracer on the host and one in a container (its own UTS
 * hostname, LTTng home and run directory) stream to one `nstrace relayd`; each trace lands
 * under its host, and the two read back merged.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceSet } from '../../src/ctf/reader.js';
import { fieldIndex } from '../../src/ctf/fields.js';
import { RelayDaemon } from '../../src/relay/index.js';
import {
  babeltrace,
  buildWorkload,
  checkIndexes,
  LttngSessiond,
  lttngUnavailable,
  tempDir,
} from './helpers.js';

const skip = lttngUnavailable();
if (skip !== null) console.warn(`SKIPPING relay 2018-scenario test: ${skip}`);

describe.skipIf(skip !== null)('host and container stream to one nstrace relayd', () => {
  let work: string;
  let wl: string;
  let host: LttngSessiond;
  let ctr: LttngSessiond;
  let daemon: RelayDaemon;

  beforeAll(async () => {
    work = tempDir('relay-2018');
    wl = await buildWorkload(work);
    [host, ctr] = await Promise.all([LttngSessiond.start(), LttngSessiond.start({ hostname: 'ctr-web-1' })]);
    daemon = await RelayDaemon.start({
      outputDir: join(work, 'out'),
      control: { host: '127.0.0.1', port: 0 },
      data: { host: '127.0.0.1', port: 0 },
      live: { host: '127.0.0.1', port: 0 },
    });
  });

  afterAll(async () => {
    await host?.stop();
    await ctr?.stop();
    await daemon?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('lands each trace under its host and reads them merged', async () => {
    const url = `net://127.0.0.1:${daemon.ports.control}:${daemon.ports.data}`;
    const hostName = (await host.exec('hostname', [])).trim();
    expect((await ctr.exec('hostname', [])).trim()).toBe('ctr-web-1');
    expect(hostName).not.toBe('ctr-web-1');
    // The same session name on both: only the host tells them apart.
    for (const sd of [host, ctr]) {
      await sd.lttng('create', 'app', `--set-url=${url}`);
      await sd.lttng('enable-channel', '-u', 'ch', '--blocking-timeout=inf');
      await sd.lttng('enable-event', '-u', '-c', 'ch', 'nstrace_test:*');
      await sd.lttng('start');
    }
    const N = 5000;
    await Promise.all([
      // 50 ms pauses every 1000 events: both run for a while, side by side.
      host.exec('env', ['LTTNG_UST_ALLOW_BLOCKING=1', wl, String(N), '50000', 'from-host']),
      ctr.exec('env', ['LTTNG_UST_ALLOW_BLOCKING=1', wl, String(N), '50000', 'from-container']),
    ]);
    for (const sd of [host, ctr]) {
      await sd.lttng('stop');
      await sd.lttng('destroy');
    }

    const out = join(work, 'out');
    expect(readdirSync(out).sort()).toEqual([hostName, 'ctr-web-1'].sort());
    const dirs = [hostName, 'ctr-web-1'].map((h) => {
      const sessions = readdirSync(join(out, h));
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatch(/^app-\d{8}-\d{6}$/);
      return join(out, h, sessions[0]!);
    });
    for (const d of dirs) expect(checkIndexes(d)).toBeGreaterThan(0);

    // babeltrace2 reads both traces at once, merged by time.
    const merged = await babeltrace(dirs);
    expect(merged.stderr).toBe('');
    const lines = merged.stdout.split('\n').filter((l) => l.includes('nstrace_test:tick'));
    expect(lines).toHaveLength(2 * N);
    const fromHost = lines.filter((l) => l.includes(`] (`) && l.includes(` ${hostName} `));
    const fromCtr = lines.filter((l) => l.includes(' ctr-web-1 '));
    expect(fromHost).toHaveLength(N);
    expect(fromCtr).toHaveLength(N);
    expect(fromHost.every((l) => l.includes('msg = "from-host"'))).toBe(true);
    expect(fromCtr.every((l) => l.includes('msg = "from-container"'))).toBe(true);
    // Merged by time: the printed timestamps never go backwards.
    const ts = lines.map((l) => /^\[(\d\d):(\d\d):(\d\d)\.(\d{9})\]/.exec(l)!.slice(1).join(''));
    for (let i = 1; i < ts.length; i++) expect(ts[i]! >= ts[i - 1]!).toBe(true);
    // Interleaved, not one after the other (both ran at the same time).
    const firstCtr = lines.findIndex((l) => l.includes(' ctr-web-1 '));
    const lastHost = lines.length - 1 - [...lines].reverse().findIndex((l) => l.includes(` ${hostName} `));
    expect(firstCtr).toBeLessThan(lastHost);

    // nstrace's own reader merges them the same way.
    const set = TraceSet.open(dirs);
    const perHost = new Map<string, number>();
    const msgs = new Map<string, Set<string>>();
    let last = -Infinity;
    let count = 0;
    for (let r = set.next(); r !== null; r = set.next()) {
      if (r.kind !== 'event') continue;
      count++;
      expect(r.ts).toBeGreaterThanOrEqual(last);
      last = r.ts;
      const host = String(r.stream.trace.cls.env.get('hostname'));
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      // TSDL names (lttng-ust writes `_msg`; babeltrace2 prints `msg`).
      const msg = r.payload![fieldIndex(r.eventClass.fields, '_msg')] as string;
      if (!msgs.has(host)) msgs.set(host, new Set());
      msgs.get(host)!.add(msg);
    }
    set.close();
    expect(count).toBe(2 * N);
    expect(Object.fromEntries(perHost)).toEqual({ [hostName]: N, 'ctr-web-1': N });
    expect(msgs.get(hostName)).toEqual(new Set(['from-host']));
    expect(msgs.get('ctr-web-1')).toEqual(new Set(['from-container']));
  });
});
