/**
 * nstrace relayd as the relay of a real LTTng 2.13 (lttng-sessiond + lttng-consumerd +
 * lttng-ust), side by side with the real lttng-relayd, and read live by real babeltrace2.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayDaemon } from '../../src/relay/index.js';
import type { LogLevel } from '../../src/relay/index.js';
import {
  babeltrace,
  babeltraceLive,
  buildWorkload,
  checkIndexes,
  dropTimestamps,
  files,
  LttngRelayd,
  LttngSessiond,
  lttngUnavailable,
  stopChild,
  tempDir,
  waitFor,
} from './helpers.js';

const skip = lttngUnavailable();
if (skip !== null) console.warn(`SKIPPING relay LTTng tests: ${skip}`);

/** The one session directory `HOST/NAME-DATETIME` for `name` under `out/host`. */
function sessionDir(out: string, host: string, name: string): string {
  const hits = readdirSync(join(out, host)).filter((n) => n === name || n.startsWith(`${name}-`));
  expect(hits, `session directories for ${name} in ${out}/${host}`).toHaveLength(1);
  return join(out, host, hits[0]!);
}

/**
 * TSDL of a trace with what differs between two sessions of one workload blanked out: the
 * trace UUID, session name, creation time (the two sessions may straddle a second) and the
 * clock offset (measured per session).
 */
function normalizedMetadata(tsdl: string): string {
  return tsdl
    .replace(/uuid = "[0-9a-f-]+";/g, 'uuid = "U";')
    .replace(/trace_name = "[^"]*";/g, 'trace_name = "N";')
    .replace(/trace_creation_datetime = "[^"]*";/g, 'trace_creation_datetime = "D";')
    .replace(/offset = \d+;/g, 'offset = O;')
    .replace(/hostname = "[^"]*";/g, 'hostname = "H";');
}

describe.skipIf(skip !== null)('nstrace relayd with real LTTng 2.13', () => {
  let work: string;
  let wl: string;
  let sessiond: LttngSessiond;
  let lttngRelayd: LttngRelayd;
  let daemon: RelayDaemon;
  const logs: string[] = [];
  let ours: string;

  beforeAll(async () => {
    work = tempDir('relay-lttng');
    wl = await buildWorkload(work);
    sessiond = await LttngSessiond.start();
    lttngRelayd = await LttngRelayd.start(join(work, 'lttng-relayd-out'));
    daemon = await RelayDaemon.start({
      outputDir: join(work, 'nstrace-out'),
      control: { host: '127.0.0.1', port: 0 },
      data: { host: '127.0.0.1', port: 0 },
      live: { host: '127.0.0.1', port: 0 },
      log: (level: LogLevel, msg: string) => logs.push(`${level} ${msg}`),
    });
    ours = `net://127.0.0.1:${daemon.ports.control}:${daemon.ports.data}`;
  });

  afterAll(async () => {
    await sessiond?.stop();
    await lttngRelayd?.stop();
    await daemon?.close();
    if (work !== undefined && process.env.KEEP === undefined) rmSync(work, { recursive: true, force: true });
    else console.log('kept', work);
  });

  it('writes the same trace as lttng-relayd for two sessions on one workload', async () => {
    const hostname = (await sessiond.exec('hostname', [])).trim();
    const N = 30_000;
    for (const [name, url] of [
      ['peer', lttngRelayd.url],
      ['ours', ours],
    ] as const) {
      await sessiond.lttng('create', name, `--set-url=${url}`);
      // Small sub-buffers: many packets per stream. Blocking: no event is discarded.
      await sessiond.lttng(
        'enable-channel',
        '-s',
        name,
        '-u',
        'ch',
        '--subbuf-size=16384',
        '--num-subbuf=4',
        '--blocking-timeout=inf',
      );
      await sessiond.lttng('enable-event', '-s', name, '-u', '-c', 'ch', 'nstrace_test:*');
    }
    await sessiond.lttng('start', 'peer');
    await sessiond.lttng('start', 'ours');
    // Half a second before the first event: both sessions must have enabled it in the app.
    // Pinned to one CPU: lttng-ust writes an event into each session's buffer in turn, and a
    // thread that migrates in between puts the event in different CPUs' streams of the two
    // sessions (then babeltrace2 orders simultaneous events differently; seen under load).
    await sessiond.exec('taskset', [
      '-c',
      '0',
      'env',
      'LTTNG_UST_ALLOW_BLOCKING=1',
      wl,
      String(N),
      '0',
      'hello',
      '500000',
    ]);
    for (const name of ['peer', 'ours']) {
      await sessiond.lttng('stop', name);
      await sessiond.lttng('destroy', name);
    }
    const peerDir = sessionDir(lttngRelayd.outputDir, hostname, 'peer');
    const ourDir = sessionDir(join(work, 'nstrace-out'), hostname, 'ours');

    // Same files. (Not necessarily the same sizes: each session reads its own clock, and an
    // event gets a large header where its timestamp crosses a 2^27 ns boundary, which can
    // happen in one session and not the other.)
    const peerFiles = files(peerDir);
    expect(peerFiles.filter((f) => f.endsWith('.idx')).length).toBeGreaterThan(0);
    expect(files(ourDir)).toEqual(peerFiles);
    // Our index files describe every byte of their data files, packet after packet.
    const packets = checkIndexes(ourDir);
    expect(packets).toBeGreaterThan(20);
    expect(checkIndexes(peerDir)).toBeGreaterThan(20);
    // Same metadata (but for the trace UUID, session name and clock offset).
    const meta = async (d: string) =>
      normalizedMetadata(
        (await babeltrace(['--output-format=ctf-metadata', join(d, 'ust/uid/0/64-bit')])).stdout,
      );
    expect(await meta(ourDir)).toEqual(await meta(peerDir));
    // Same events, printed by babeltrace2 (each session reads its own clock: timestamps differ).
    const peerText = await babeltrace([peerDir]);
    const ourText = await babeltrace([ourDir]);
    expect(ourText.stderr).toBe('');
    expect(ourText.stdout.split('\n').filter((l) => l.includes('nstrace_test:tick'))).toHaveLength(N);
    expect(peerText.stdout.split('\n').filter((l) => l.includes('nstrace_test:tick'))).toHaveLength(N);
    const a = dropTimestamps(ourText.stdout).split('\n');
    const b = dropTimestamps(peerText.stdout).split('\n');
    const at = a.findIndex((l, i) => l !== b[i]);
    const ctx = (t: string) =>
      t
        .split('\n')
        .slice(Math.max(0, at - 3), at + 3)
        .join('\n');
    expect(
      at,
      `first difference at line ${at}:\nours:\n${ctx(ourText.stdout)}\npeer:\n${ctx(peerText.stdout)}`,
    ).toBe(-1);
    expect(daemon.status().counters.protocolErrors).toBe(0);
  });

  it('serves a live session to babeltrace2 with every event', async () => {
    const N = 20_000;
    const hostname = (await sessiond.exec('hostname', [])).trim();
    await sessiond.lttng('create', 'livesess', '--live=100000', `--set-url=${ours}`);
    await sessiond.lttng('enable-channel', '-s', 'livesess', '-u', 'ch', '--blocking-timeout=inf');
    await sessiond.lttng('enable-event', '-s', 'livesess', '-u', '-c', 'ch', 'nstrace_test:*');
    await sessiond.lttng('start', 'livesess');
    const viewer = babeltraceLive(`net://127.0.0.1:${daemon.ports.live}/host/${hostname}/livesess`);
    try {
      await waitFor('babeltrace2 to attach', () =>
        [...daemon.state.sessions.values()].some((s) => s.name === 'livesess' && s.viewer !== null),
      );
      // Paced so that the viewer follows the session while it is being written.
      await sessiond.exec('env', ['LTTNG_UST_ALLOW_BLOCKING=1', wl, String(N), '20000']);
      await sessiond.lttng('stop', 'livesess');
      await sessiond.lttng('destroy', 'livesess');
      const r = await Promise.race([
        viewer.done,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('babeltrace2 did not end')), 60_000)),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const ticks = r.stdout.split('\n').filter((l) => l.includes('nstrace_test:tick'));
      expect(ticks).toHaveLength(N);
      const seen = ticks.map((l) => Number(/\bi = (\d+)/.exec(l)![1]));
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
      // And what the viewer saw is what is on disk.
      const dir = sessionDir(join(work, 'nstrace-out'), hostname, 'livesess');
      const offline = await babeltrace([dir]);
      expect(offline.stdout).toEqual(r.stdout);
    } finally {
      await stopChild(viewer.child);
    }
  });
});
