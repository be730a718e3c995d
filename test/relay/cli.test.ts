/**
 * `nstrace relayd` as a process: status on stderr, a clean stop on SIGTERM, and a SIGKILL
 * followed by a restart that leaves the earlier output alone.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayClient, prepareReplay, replayTrace } from '../../src/relay/index.js';
import { checkIndexes, checkPrefixOfOriginal, files, freePort, tempDir, waitFor } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WITH_INDEX = join(ROOT, 'test/fixtures/babeltrace/trace-with-index');

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  ports: { control: number; data: number; live: number };
}

const started: ChildProcess[] = [];

/** Runs the CLI from source (vite-node; `--` keeps our options away from it). */
function nstrace(args: string[]): {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/vite-node/vite-node.mjs'), join(ROOT, 'src/cli/main.ts'), '--', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(child);
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => err, stdout: () => out, exited };
}

async function relayd(out: string): Promise<Proc> {
  const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
  const p = nstrace([
    'relayd',
    '-o',
    out,
    '--control-port',
    `127.0.0.1:${ports.control}`,
    '--data-port',
    `tcp://127.0.0.1:${ports.data}`,
    '--live-port',
    String(ports.live),
    '--status-interval',
    '1',
  ]);
  await waitFor(
    'nstrace relayd to listen',
    () => {
      if (p.child.exitCode !== null) throw new Error(`nstrace relayd exited: ${p.stderr()}`);
      return p.stderr().includes('listening:');
    },
    60_000,
  );
  return { ...p, ports };
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('nstrace relayd (command)', () => {
  it('reports status and stops cleanly on SIGTERM', async () => {
    const work = tempDir('relay-cli');
    try {
      const d = await relayd(join(work, 'out'));
      const c = await RelayClient.connect(`net://127.0.0.1:${d.ports.control}:${d.ports.data}`, {
        hostname: 'clihost',
        sessionName: 'clisess',
      });
      await replayTrace(c, WITH_INDEX);
      await c.close();
      expect(d.stderr()).toMatch(
        /session clihost\/clisess \(#1\) from 127\.0\.0\.1:\d+ -> clihost\/clisess-\d{8}-\d{6}/,
      );
      await waitFor(
        'a status line with the packets',
        () => /relayd: \d+ sessions?, .* 20 packets/.test(d.stderr()),
        30_000,
      );
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      expect(d.stderr()).toContain('SIGTERM: closing');
      expect(d.stderr()).toMatch(/closed; 1 sessions, 20 packets/);
      const dir = join(work, 'out', c.outputPath, 'trace-with-index');
      expect(checkIndexes(dir)).toBe(20);
      for (const f of files(WITH_INDEX)) expect(sha(join(dir, f)), f).toBe(sha(join(WITH_INDEX, f)));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('keeps what it wrote before a SIGKILL, and a restart does not write over it', async () => {
    const work = tempDir('relay-cli-kill');
    try {
      const out = join(work, 'out');
      const d1 = await relayd(out);
      const creationTime = 1_700_000_000;
      const c = await RelayClient.connect(`net://127.0.0.1:${d1.ports.control}:${d1.ports.data}`, {
        hostname: 'killhost',
        sessionName: 'killsess',
        creationTime,
      });
      const replay = await prepareReplay(c, WITH_INDEX);
      const sending = replay.sendPackets().catch(() => undefined);
      await waitFor('some packets', () => c.packetsSent >= 8);
      d1.child.kill('SIGKILL');
      await d1.exited;
      await sending;
      c.destroy();
      const first = join(out, c.outputPath, 'trace-with-index');
      const packets = checkPrefixOfOriginal(first, WITH_INDEX);
      const before = files(first).map((f) => [f, sha(join(first, f))]);

      const d2 = await relayd(out);
      const c2 = await RelayClient.connect(`net://127.0.0.1:${d2.ports.control}:${d2.ports.data}`, {
        hostname: 'killhost',
        sessionName: 'killsess',
        creationTime,
      });
      expect(c2.outputPath).toBe(`${c.outputPath}-1`);
      await replayTrace(c2, WITH_INDEX);
      await c2.close();
      d2.child.kill('SIGINT');
      expect(await d2.exited).toBe(0);
      expect(files(first).map((f) => [f, sha(join(first, f))])).toEqual(before);
      expect(checkPrefixOfOriginal(first, WITH_INDEX)).toBe(packets);
      const second = join(out, c2.outputPath, 'trace-with-index');
      for (const f of files(WITH_INDEX)) expect(sha(join(second, f)), f).toBe(sha(join(WITH_INDEX, f)));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('teaches in --help and refuses bad options with one line', async () => {
    const help = nstrace(['relayd', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain('lttng create mysession --set-url=net://RELAY_HOST');
    expect(help.stdout()).toContain('babeltrace2 net://127.0.0.1:5344/host/HOST/mysession');
    expect(help.stdout()).toContain(
      'nstrace relayd --command-timeout 10 --max-connections 4096 --memory-budget 1G',
    );
    for (const flag of ['--command-timeout', '--idle-timeout', '--max-connections', '--memory-budget']) {
      expect(help.stdout()).toContain(flag);
    }
    const bad = nstrace(['relayd', '--control-port', 'nope']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr().trim()).toBe(
      'nstrace: error: bad control port "nope" (expected PORT, HOST:PORT, tcp://HOST:PORT or tcp6://[ADDR]:PORT)',
    );
    const badBudget = nstrace(['relayd', '--memory-budget', 'lots']);
    expect(await badBudget.exited).toBe(2);
    expect(badBudget.stderr().trim()).toBe(
      'nstrace: error: bad --memory-budget "lots" (a size: 256M, 1G, 65536)',
    );
  });
});
