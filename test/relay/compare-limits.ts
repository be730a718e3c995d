/**
 * The same hostile peers against lttng-relayd 2.13 and `nstrace relayd` (the built CLI, default
 * limits), side by side: what docs/relay.md ("Limits") reports. Not a vitest file: it takes a
 * few minutes (it waits 75 s for timeouts that lttng-relayd does not have) and starts
 * lttng-relayd, so run it under the system lock:
 *
 *   npm run build && flock /tmp/nstrace-system.lock npx vite-node test/relay/compare-limits.ts
 *
 * Probes (each relay fresh, on free ports, output in a temporary directory):
 *   stalled   half a command header on the control port, half a packet on the data port, half
 *             a request on the live port: closed within 75 s? when?
 *   live-hol  while a viewer sits on half a request, does another viewer get LIST_SESSIONS?
 *   idle      connections that send nothing, on each port: closed within 75 s?
 *   memory    4 connections each push 100 MiB of an unfinished command: peak RSS (VmHWM) and
 *             whether a valid session goes through meanwhile
 *   log       a session name with a newline and ESC (refused by both): raw bytes in the log?
 *   dirs      a session name that is too long once the date is appended: directories left?
 *   fds       open-files limit 256, 400 connections to the control port: what happens, and
 *             does a valid session go through afterwards?
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as C from '../../src/relay/codec.js';
import { RelayClient, replayTrace } from '../../src/relay/index.js';
import { NSTRACE } from '../helpers/cli.js';
import { CONNECT, createSession, ctrl, freePort, live, RawPeer, relayArgs, sleep, VERSION } from './raw.js';

const WITH_INDEX = fileURLToPath(new URL('../fixtures/babeltrace/trace-with-index', import.meta.url));
const MiB = 1024 * 1024;
const OBSERVE_MS = Number(process.env.OBSERVE_MS ?? 75_000);

// (helpers.ts imports vitest, which does not load outside a vitest run.)
async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Relay {
  name: string;
  child: ChildProcess;
  ports: { control: number; data: number; live: number };
  out: string;
  log: () => string;
}

async function startRelay(kind: 'lttng' | 'nstrace', work: string, nofile?: number): Promise<Relay> {
  const ports = { control: await freePort(), data: await freePort(), live: await freePort() };
  const out = join(work, `${kind}-out-${ports.control}`);
  const args =
    kind === 'lttng'
      ? ['lttng-relayd', ...relayArgs(ports, out)]
      : [process.execPath, NSTRACE, 'relayd', ...relayArgs(ports, out), '--status-interval', '0'];
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const script = nofile !== undefined ? `ulimit -n ${nofile}; exec ${quoted}` : `exec ${quoted}`;
  const child = spawn('sh', ['-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LTTNG_HOME: work },
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString('latin1')));
  await waitFor(`${kind} relay`, async () => {
    if (child.exitCode !== null) throw new Error(`${kind} relay exited: ${log}`);
    try {
      (await RawPeer.connect(ports.live)).destroy();
      return true;
    } catch {
      return false;
    }
  });
  return {
    name: kind === 'lttng' ? 'lttng-relayd 2.13.9' : 'nstrace relayd',
    child,
    ports,
    out,
    log: () => log,
  };
}

async function stop(r: Relay): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const gone = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (r.child.exitCode === null) r.child.kill('SIGKILL');
}

function alive(r: Relay): boolean {
  return r.child.exitCode === null && r.child.signalCode === null;
}

async function validSession(r: Relay, name: string): Promise<string> {
  try {
    const c = await RelayClient.connect(`net://127.0.0.1:${r.ports.control}:${r.ports.data}`, {
      hostname: 'goodhost',
      sessionName: name,
      connectTimeoutMs: 5000,
    });
    const timeout = sleep(30_000).then(() => {
      throw new Error('no answer in 30 s');
    });
    await Promise.race([
      (async () => {
        await replayTrace(c, WITH_INDEX);
        await c.close();
      })(),
      timeout,
    ]);
    return 'served';
  } catch (err) {
    return `failed (${(err as Error).message})`;
  }
}

function hwm(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(s)![1]) * 1024;
}

/** The relay's own process (sh execs it, so it is the child's pid). */
function pidOf(r: Relay): number {
  return r.child.pid!;
}

const closedIn = (since: number, at: number | null): string =>
  at === null ? `open after ${OBSERVE_MS / 1000} s` : `closed after ${((at - since) / 1000).toFixed(1)} s`;

async function probeTimeouts(r: Relay): Promise<Record<string, string>> {
  const p = r.ports;
  const t0 = Date.now();
  const halfHeader = await RawPeer.connect(p.control);
  await halfHeader.write(VERSION.subarray(0, 10));
  const halfData = await RawPeer.connect(p.data);
  await halfData.write(
    C.DataHdr.encode({
      circuit_id: 0,
      stream_id: 1,
      net_seq_num: 0,
      data_size: 4096,
      padding_size: 0,
    }).subarray(0, 20),
  );
  const halfLive = await RawPeer.connect(p.live);
  await halfLive.write(CONNECT.subarray(0, 20));
  // Head-of-line: another viewer, whole requests.
  const other = await RawPeer.connect(p.live);
  await other.write(Buffer.concat([CONNECT, live(C.ViewerCommand.LIST_SESSIONS, Buffer.alloc(0))]));
  let hol: string;
  try {
    await other.read(C.ViewerConnect.size + C.ViewerListSessions.size, 5000);
    hol = 'answered';
  } catch {
    hol = 'no answer in 5 s (the live thread waits for the stalled viewer)';
  }
  const idle = await Promise.all([p.control, p.data, p.live].map((port) => RawPeer.connect(port)));
  const all = [halfHeader, halfData, halfLive, ...idle];
  const at = await Promise.all(all.map((s) => s.waitClosed(OBSERVE_MS)));
  for (const s of [...all, other]) s.destroy();
  return {
    'stalled control header': closedIn(t0, at[0]!),
    'stalled data header': closedIn(t0, at[1]!),
    'stalled live request': closedIn(t0, at[2]!),
    'another viewer meanwhile': hol,
    'idle control': closedIn(t0, at[3]!),
    'idle data': closedIn(t0, at[4]!),
    'idle live': closedIn(t0, at[5]!),
  };
}

async function probeMemory(r: Relay): Promise<Record<string, string>> {
  const hogs = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connect(r.ports.control)));
  const header = ctrl(C.RelaydCommand.VERSION, Buffer.alloc(0), 128 * MiB);
  const chunk = Buffer.alloc(MiB, 0x41);
  const pushing = hogs.map(async (h) => {
    await h.write(header);
    for (let k = 0; k < 100 && !h.closed; k++) await h.write(chunk);
  });
  await sleep(200);
  const during = await validSession(r, 'during-hogs');
  await Promise.all(pushing);
  await sleep(1000);
  const peak = alive(r) ? `${(hwm(pidOf(r)) / MiB).toFixed(0)} MiB` : 'relay died';
  const closed = hogs.filter((h) => h.closed).length;
  for (const h of hogs) h.destroy();
  return {
    '4 x 100 MiB unfinished: peak RSS': peak,
    '4 x 100 MiB: hogs closed': `${closed} of 4`,
    '4 x 100 MiB: a new session meanwhile': during,
  };
}

async function probeLogAndDirs(r: Relay): Promise<Record<string, string>> {
  const p = r.ports;
  const before = r.log().length;
  const bad = await RawPeer.connect(p.control);
  await bad.write(Buffer.concat([VERSION, createSession('.evil\n\x1b[31mFAKE LINE', 'h')]));
  await bad.waitClosed(3000);
  bad.destroy();
  await sleep(300);
  const text = r.log().slice(before);
  // eslint-disable-next-line no-control-regex
  const raw = /[\n][^\n]*\x1b\[31mFAKE LINE/.test(text) || /\x1b/.test(text);
  const long = await RawPeer.connect(p.control);
  await long.write(Buffer.concat([VERSION, createSession('s'.repeat(250), 'dirhost')]));
  let reply = 'no reply';
  try {
    await long.read(C.VersionMsg.size, 3000);
    reply = `ret_code ${C.CreateSessionReply211.decode(await long.read(C.CreateSessionReply211.size, 3000)).ret_code}`;
  } catch {
    // closed without an answer
  }
  long.destroy();
  await sleep(300);
  const left = existsSync(join(r.out, 'dirhost'))
    ? `left ${join('dirhost', ...readdirSync(join(r.out, 'dirhost')))} behind`
    : 'nothing left';
  return {
    'session name with newline + ESC': raw ? 'written raw into the log' : 'escaped (or not logged)',
    'name too long with its date: reply': reply,
    'name too long with its date: directories': left,
  };
}

async function probeFds(kind: 'lttng' | 'nstrace', work: string): Promise<Record<string, string>> {
  const r = await startRelay(kind, work, 256);
  try {
    const peers: RawPeer[] = [];
    let failed = 0;
    for (let i = 0; i < 400; i++) {
      try {
        peers.push(await RawPeer.connect(r.ports.control));
      } catch {
        failed++;
      }
    }
    await sleep(1500);
    const closed = peers.filter((s) => s.closed).length;
    const state = alive(r) ? 'still running' : `exited (${r.child.exitCode ?? r.child.signalCode})`;
    for (const s of peers) s.destroy();
    await sleep(500);
    const after = alive(r) ? await validSession(r, 'after-fds') : 'relay gone';
    return {
      'open-files limit 256, 400 connections': `${peers.length - closed} kept, ${closed + failed} refused or closed; relay ${state}`,
      'then a valid session': after,
    };
  } finally {
    await stop(r);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'nstrace-compare-limits-'));
  const results: Record<string, Record<string, string>> = {};
  try {
    for (const kind of ['lttng', 'nstrace'] as const) {
      const r = await startRelay(kind, work);
      try {
        const row: Record<string, string> = {};
        Object.assign(row, await probeLogAndDirs(r));
        Object.assign(row, await probeMemory(r));
        Object.assign(row, await probeTimeouts(r));
        row['relay still running'] = alive(r) ? 'yes' : 'no';
        results[r.name] = row;
      } finally {
        await stop(r);
      }
      Object.assign(
        results[kind === 'lttng' ? 'lttng-relayd 2.13.9' : 'nstrace relayd']!,
        await probeFds(kind, work),
      );
      process.stderr.write(`${kind}: done\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const names = Object.keys(results);
  const keys = Object.keys(results[names[0]!]!);
  console.log(`| probe | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|`);
  for (const k of keys) console.log(`| ${k} | ${names.map((n) => results[n]![k] ?? '').join(' | ')} |`);
}

await main();
