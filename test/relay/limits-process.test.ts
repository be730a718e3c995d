/**
 * The bar of issue 11 for `nstrace relayd` as users run it (the built CLI, default limits):
 * four connections each push 100 MiB of an unfinished command while a real session streams a
 * trace through the relay; the daemon's peak RSS (VmHWM) stays under 400 MiB, the session
 * arrives whole, and a connection that sent half a command header and stalled is closed
 * within 60 s (the default --command-timeout is 30 s).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as C from '../../src/relay/codec.js';
import { RelayClient, replayTrace } from '../../src/relay/index.js';
import { ensureBuilt, NSTRACE } from '../helpers/cli.js';
import { files, freePort, sleep, tempDir, waitFor } from './helpers.js';
import { ctrl, RawPeer, relayArgs, VERSION } from './raw.js';

const WITH_INDEX = fileURLToPath(new URL('../fixtures/babeltrace/trace-with-index', import.meta.url));
const MiB = 1024 * 1024;

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** VmRSS and VmHWM (peak) of `pid`, in bytes. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

const children: ChildProcess[] = [];
const work = tempDir('relay-limits-process');
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('nstrace relayd (process, default limits) under 4 x 100 MiB of unfinished commands', () => {
  it('stays under 400 MiB, serves a new session meanwhile, and closes a stalled command within 60 s', async () => {
    ensureBuilt();
    const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
    const out = join(work, 'out');
    const child = spawn(
      process.execPath,
      [NSTRACE, 'relayd', ...relayArgs(ports, out), '--status-interval', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('nstrace relayd to listen', () => {
      if (child.exitCode !== null) throw new Error(`nstrace relayd exited: ${stderr}`);
      return stderr.includes('limits:');
    });
    expect(stderr).toContain(
      'limits: command timeout 30 s, idle timeout 60 s, 1024 connections per port, memory budget 192.0 MiB',
    );
    const pid = child.pid!;
    const base = rss(pid).now;

    // The slowloris: 10 bytes of a 24-byte header, then nothing.
    const stalled = await RawPeer.connect(ports.control);
    await stalled.write(VERSION.subarray(0, 10));
    const stalledSince = Date.now();

    let maxRss = 0;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rss(pid).now)), 50);
    try {
      // Four peers each announce a 128 MiB command and push 100 MiB of it, 1 MiB at a time.
      const hogs = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connect(ports.control)));
      const header = ctrl(C.RelaydCommand.VERSION, Buffer.alloc(0), 128 * MiB);
      const mib = Buffer.alloc(MiB, 0x41);
      const pushing = hogs.map(async (h) => {
        await h.write(header);
        for (let k = 0; k < 100 && !h.closed; k++) await h.write(mib);
      });
      // Meanwhile a valid session streams a whole trace.
      await sleep(200);
      const c = await RelayClient.connect(`net://127.0.0.1:${ports.control}:${ports.data}`, {
        hostname: 'goodhost',
        sessionName: 'during-hogs',
      });
      await replayTrace(c, WITH_INDEX);
      await c.close();
      await Promise.all(pushing);
      await sleep(500);
      const dir = join(out, c.outputPath, 'trace-with-index');
      for (const f of files(WITH_INDEX)) expect(sha(join(dir, f)), f).toBe(sha(join(WITH_INDEX, f)));
      // And one more once every hog has pushed all it could.
      const c2 = await RelayClient.connect(`net://127.0.0.1:${ports.control}:${ports.data}`, {
        hostname: 'goodhost',
        sessionName: 'after-hogs',
      });
      await replayTrace(c2, WITH_INDEX);
      await c2.close();

      const { peak } = rss(pid);
      const evicted = hogs.filter((h) => h.closed).length;
      console.log(
        `nstrace relayd RSS: ${(base / MiB).toFixed(0)} MiB at start, ` +
          `${(maxRss / MiB).toFixed(0)} MiB sampled max, ${(peak / MiB).toFixed(0)} MiB peak (VmHWM); ` +
          `${evicted} of 4 hogs closed by the memory budget`,
      );
      expect(peak).toBeLessThan(400 * MiB);
      // 4 x 100 MiB does not fit in 192 MiB: some were closed, and said so.
      expect(evicted).toBeGreaterThanOrEqual(2);
      expect(stderr).toMatch(
        /control connection .*: closed: it holds [\d.]+ MiB of unfinished commands, and the relay's memory budget of 192\.0 MiB is used up/,
      );
      expect(child.exitCode).toBeNull();
      for (const h of hogs) h.destroy();
    } finally {
      clearInterval(sampler);
    }

    // The stalled header: closed after the 30 s default, within the 60 s bar.
    const at = await stalled.waitClosed(65_000 - (Date.now() - stalledSince));
    expect(at).not.toBeNull();
    const after = at! - stalledSince;
    console.log(`stalled command header closed after ${(after / 1000).toFixed(1)} s`);
    expect(after).toBeGreaterThanOrEqual(30_000);
    expect(after).toBeLessThan(60_000);
    expect(stderr).toMatch(
      /closed: sent a command header \(10 of 24 bytes\), then too little for 3\d s \(--command-timeout 30 s\)/,
    );
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 180_000);
});
