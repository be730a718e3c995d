/**
 * The relay's limits (docs/adr/0141-relay-limits.md), with short timeouts: a command that
 * stalls half-sent (slowloris), connections idle without a session, the connection cap per
 * port, the memory budget (unfinished commands, unread replies, index halves), log lines that
 * escape what peers send, and no directory left behind by a session or stream that could not
 * be created. Every time a relay closes a connection, a valid session must still go through.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/relay/codec.js';
import type { RelayDaemonOptions } from '../../src/relay/daemon.js';
import { RelayClient, RelayDaemon, replayTrace } from '../../src/relay/index.js';
import { defaultMaxConnections, MemoryBudget, resolveLimits } from '../../src/relay/limits.js';
import { escapeControls } from '../../src/relay/logtext.js';
import { files, sleep, tempDir, waitFor } from './helpers.js';
import {
  addStream,
  CONNECT,
  createSession,
  ctrl,
  live,
  RawPeer,
  rawSession,
  sendIndex,
  VERSION,
} from './raw.js';

const WITH_INDEX = fileURLToPath(new URL('../fixtures/babeltrace/trace-with-index', import.meta.url));

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

let work: string;
beforeAll(() => {
  work = tempDir('relay-limits');
});
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

async function startRelay(
  name: string,
  limits: RelayDaemonOptions['limits'],
): Promise<{ d: RelayDaemon; logs: string[]; out: string; url: string }> {
  const logs: string[] = [];
  const out = join(work, name);
  const d = await RelayDaemon.start({
    outputDir: out,
    control: { host: '127.0.0.1', port: 0 },
    data: { host: '127.0.0.1', port: 0 },
    live: { host: '127.0.0.1', port: 0 },
    log: (l, m) => logs.push(`${l} ${m}`),
    orphanTimeoutMs: 1000,
    limits,
  });
  return { d, logs, out, url: `net://127.0.0.1:${d.ports.control}:${d.ports.data}` };
}

/** A whole valid session through the relay; checks it arrived byte for byte. */
async function validSession(url: string, out: string, name: string): Promise<void> {
  const c = await RelayClient.connect(url, { hostname: 'goodhost', sessionName: name });
  await replayTrace(c, WITH_INDEX);
  await c.close();
  const dir = join(out, c.outputPath, 'trace-with-index');
  for (const f of files(WITH_INDEX)) expect(sha(join(dir, f)), f).toBe(sha(join(WITH_INDEX, f)));
}

describe('relayd limits: stalled commands (slowloris)', () => {
  it('closes a connection whose command stalls half-sent, on every port, within the timeout', async () => {
    const { d, logs, out, url } = await startRelay('slow', { commandTimeoutMs: 1000, idleTimeoutMs: 60_000 });
    try {
      const p = d.ports;
      const t0 = Date.now();
      // Half a header; a whole header and half a payload; a data packet cut short; half a viewer request.
      const halfHeader = await RawPeer.connect(p.control);
      await halfHeader.write(VERSION.subarray(0, 10));
      const halfPayload = await RawPeer.connect(p.control);
      await halfPayload.write(VERSION.subarray(0, 28));
      const { peer: owner } = await rawSession(p.control, 'slowsess', 'slowhost');
      await owner.write(addStream('ch_0', 'tr'));
      const handle = C.StatusStream.decode(await owner.read(C.StatusStream.size)).handle;
      const halfPacket = await RawPeer.connect(p.data);
      await halfPacket.write(
        Buffer.concat([
          C.DataHdr.encode({
            circuit_id: 0,
            stream_id: handle,
            net_seq_num: 0,
            data_size: 4096,
            padding_size: 0,
          }),
          Buffer.alloc(1000, 0x55),
        ]),
      );
      const halfLive = await RawPeer.connect(p.live);
      await halfLive.write(
        Buffer.concat([CONNECT, live(C.ViewerCommand.LIST_SESSIONS, Buffer.alloc(0)).subarray(0, 5)]),
      );
      // Slowloris proper: a byte every 200 ms keeps the socket busy but the command never ends.
      const trickle = await RawPeer.connect(p.control);
      const big = ctrl(C.RelaydCommand.VERSION, Buffer.alloc(8), 1 << 20);
      let i = 0;
      const dripper = setInterval(() => void trickle.write(big.subarray(i, ++i)), 200);
      try {
        const stalled = [halfHeader, halfPayload, halfPacket, halfLive, trickle];
        const closedAt = await Promise.all(stalled.map((s) => s.waitClosed(10_000)));
        for (const [k, at] of closedAt.entries()) {
          expect(at, `connection ${k} closed`).not.toBeNull();
          // Timeout 1 s, checked every 250 ms: closed after 1 s, well before 3 s.
          expect(at! - t0, `connection ${k}`).toBeGreaterThanOrEqual(1000);
          expect(at! - t0, `connection ${k}`).toBeLessThan(3000 + 1000);
        }
      } finally {
        clearInterval(dripper);
      }
      expect(logs.filter((l) => l.includes('--command-timeout 1 s'))).toHaveLength(5);
      expect(
        logs.some((l) => /control connection .*closed: sent a command header \(10 of 24 bytes\)/.test(l)),
      ).toBe(true);
      expect(logs.some((l) => /closed: sent command 5 \(4 of 8 payload bytes\)/.test(l))).toBe(true);
      expect(
        logs.some((l) =>
          /data connection .*closed: sent packet 0 of stream \d+ \(1000 of 4096 bytes\)/.test(l),
        ),
      ).toBe(true);
      expect(
        logs.some((l) => /live connection .*closed: sent a request header \(5 of 16 bytes\)/.test(l)),
      ).toBe(true);
      expect(d.status().counters.closedByLimits).toBe(5);
      // The session that owns the stream is intact: not closed, nothing written for the cut packet.
      expect(owner.closed).toBe(false);
      expect(d.status().activeSessions).toBe(1);
      await validSession(url, out, 'after-slowloris');
      owner.destroy();
    } finally {
      await d.close();
    }
  });

  it('leaves alone a session that sends whole commands slowly, and a big command that keeps coming', async () => {
    const { d, url, out } = await startRelay('slow-ok', { commandTimeoutMs: 1000, idleTimeoutMs: 60_000 });
    try {
      // Whole commands with long pauses in between: never "in the middle of" one.
      const { peer } = await rawSession(d.ports.control, 'pauses', 'slowhost');
      for (let k = 0; k < 3; k++) {
        await sleep(800);
        await peer.write(addStream(`ch_${k}`, 'tr'));
        expect(C.StatusStream.decode(await peer.read(C.StatusStream.size)).ret_code).toBe(C.LttngErr.OK);
      }
      // A 2 MiB metadata command at 256 KiB per 400 ms: slow, but it advances.
      await peer.write(addStream('metadata', 'tr'));
      const meta = C.StatusStream.decode(await peer.read(C.StatusStream.size)).handle;
      const body = Buffer.alloc(2 << 20, 0x20);
      const cmd = ctrl(
        C.RelaydCommand.SEND_METADATA,
        Buffer.concat([C.MetadataPayload.encode({ stream_id: meta, padding_size: 0 }), body]),
      );
      for (let o = 0; o < cmd.length; o += 256 * 1024) {
        await peer.write(cmd.subarray(o, o + 256 * 1024));
        await sleep(400);
      }
      await sleep(1500);
      expect(peer.closed).toBe(false);
      expect(d.status().counters.closedByLimits).toBe(0);
      await waitFor('the metadata on disk', () => d.status().counters.metadataBytesReceived === body.length);
      peer.destroy();
      await validSession(url, out, 'slow-ok');
    } finally {
      await d.close();
    }
  });
});

describe('relayd limits: idle connections', () => {
  it('closes connections without a session that stay silent, and keeps those with one', async () => {
    const { d, logs, url, out } = await startRelay('idle', { idleTimeoutMs: 1000, commandTimeoutMs: 30_000 });
    try {
      const p = d.ports;
      const t0 = Date.now();
      const silentControl = await RawPeer.connect(p.control);
      const versionOnly = await RawPeer.connect(p.control);
      await versionOnly.write(VERSION);
      await versionOnly.read(C.VersionMsg.size);
      const silentData = await RawPeer.connect(p.data); // no session anywhere yet
      const viewer = await RawPeer.connect(p.live);
      await viewer.write(CONNECT);
      await viewer.read(C.ViewerConnect.size);
      const idle = [silentControl, versionOnly, silentData, viewer];
      const closedAt = await Promise.all(idle.map((s) => s.waitClosed(10_000)));
      for (const [k, at] of closedAt.entries()) {
        expect(at, `connection ${k} closed`).not.toBeNull();
        expect(at! - t0, `connection ${k}`).toBeGreaterThanOrEqual(1000);
        expect(at! - t0, `connection ${k}`).toBeLessThan(4000);
      }
      expect(
        logs.filter((l) => /idle for [\d.]+ s without a session \(--idle-timeout 1 s\)/.test(l)),
      ).toHaveLength(4);

      // With a session: the control connection, a data connection from the same address (its
      // first packet may come much later), an attached viewer. All silent for 3 timeouts.
      const { peer: owner, sessionId } = await rawSession(p.control, 'idlesess', 'idlehost', {
        liveTimerUs: 1_000_000,
      });
      const quietData = await RawPeer.connect(p.data);
      const attached = await RawPeer.connect(p.live);
      await attached.write(
        Buffer.concat([
          CONNECT,
          live(C.ViewerCommand.CREATE_SESSION, Buffer.alloc(0)),
          live(
            C.ViewerCommand.ATTACH_SESSION,
            C.ViewerAttachRequest.encode({ session_id: sessionId, offset: 0n, seek: C.ViewerSeek.LAST }),
          ),
        ]),
      );
      await attached.read(C.ViewerConnect.size + C.ViewerCreateSessionResponse.size);
      expect(C.ViewerAttachResponse.decode(await attached.read(C.ViewerAttachResponse.size)).status).toBe(
        C.ViewerAttach.OK,
      );
      await sleep(3000);
      expect([owner.closed, quietData.closed, attached.closed]).toEqual([false, false, false]);
      // The session ends: the data connection that never carried a packet has nothing left.
      owner.destroy();
      expect(await quietData.waitClosed(5000)).not.toBeNull();
      attached.destroy();
      await validSession(url, out, 'after-idle');
    } finally {
      await d.close();
    }
  });
});

describe('relayd limits: connections per port', () => {
  it('refuses connections beyond the cap, logs it, and takes new ones once some are gone', async () => {
    const { d, logs, url, out } = await startRelay('cap', { maxConnections: 4 });
    try {
      const p = d.ports;
      const held = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connect(p.control)));
      const extra = await Promise.all(Array.from({ length: 3 }, () => RawPeer.connect(p.control)));
      for (const e of extra) expect(await e.waitClosed(5000)).not.toBeNull();
      await sleep(200);
      for (const h of held) expect(h.closed).toBe(false);
      expect(d.status().connections.control).toBe(4);
      expect(d.status().counters.connectionsRefused).toBe(3);
      // One line per port per 10 s, not one per refusal.
      const lines = logs.filter((l) => l.includes('control port: refused a connection'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/4 open, the limit \(--max-connections 4\)/);
      // The data and live ports have their own caps.
      const viewers = await Promise.all(Array.from({ length: 4 }, () => RawPeer.connect(p.live)));
      await sleep(200);
      for (const v of viewers) expect(v.closed).toBe(false);
      // Room again once some are gone: a whole session goes through (1 control + 1 data).
      held[0]!.destroy();
      held[1]!.destroy();
      await waitFor('the cap to have room', () => d.status().connections.control === 2);
      await validSession(url, out, 'after-cap');
      for (const s of [...held, ...viewers]) s.destroy();
    } finally {
      await d.close();
    }
  });
});

describe('relayd limits: memory budget', () => {
  it('closes the connection holding the most when unfinished commands fill the budget', async () => {
    const { d, logs, url, out } = await startRelay('budget', { memoryBudget: 8 << 20 });
    try {
      // Three peers each announce a 100 MiB command and send 3.5 MiB of it (10.5 MiB > 8 MiB).
      const hogs = await Promise.all(Array.from({ length: 3 }, () => RawPeer.connect(d.ports.control)));
      const header = ctrl(C.RelaydCommand.VERSION, Buffer.alloc(0), 100 << 20);
      for (const h of hogs) await h.write(header);
      const chunk = Buffer.alloc(512 * 1024, 0x41);
      for (let k = 0; k < 7; k++) for (const h of hogs) await h.write(chunk);
      await waitFor('a hog to be closed', () => hogs.some((h) => h.closed), 10_000);
      await sleep(300);
      expect(hogs.filter((h) => h.closed).length).toBeGreaterThanOrEqual(1);
      expect(hogs.filter((h) => !h.closed).length).toBeGreaterThanOrEqual(1);
      expect(d.state.budget.used).toBeLessThanOrEqual(8 << 20);
      expect(
        logs.some((l) =>
          /closed: it holds [\d.]+ MiB of unfinished commands, and the relay's memory budget of 8\.0 MiB is used up/.test(
            l,
          ),
        ),
      ).toBe(true);
      // A new session, with small commands, is served while the others keep holding.
      await validSession(url, out, 'within-budget');
      // Its own state was charged and given back: only the hogs' bytes remain.
      for (const h of hogs) h.destroy();
      await waitFor('the budget to be empty', () => d.state.budget.used === 0);
    } finally {
      await d.close();
    }
  });

  it('charges index halves waiting for their packet to the session, and frees them by closing it', async () => {
    const { d, logs, url, out } = await startRelay('budget-index', { memoryBudget: 2 << 20 });
    try {
      const { peer } = await rawSession(d.ports.control, 'indexflood', 'floodhost');
      await peer.write(addStream('ch_0', 'tr'));
      const handle = C.StatusStream.decode(await peer.read(C.StatusStream.size)).handle;
      // 20,000 indexes of packets that never come (~6 MiB of bookkeeping).
      const flood = Buffer.concat(Array.from({ length: 20_000 }, (_, k) => sendIndex(handle, k)));
      await peer.write(flood);
      expect(await peer.waitClosed(10_000)).not.toBeNull();
      expect(
        logs.some((l) => /of session state, and the relay's memory budget of 2\.0 MiB is used up/.test(l)),
      ).toBe(true);
      expect(logs.some((l) => /session floodhost\/indexflood \(#\d+\): closing its 1 streams/.test(l))).toBe(
        true,
      );
      await waitFor('the budget to be empty', () => d.state.budget.used === 0);
      await validSession(url, out, 'after-index-flood');
    } finally {
      await d.close();
    }
  });

  it('stops serving a viewer that does not read its replies, and closes it', async () => {
    const { d, logs, url, out } = await startRelay('unread', { commandTimeoutMs: 1500 });
    try {
      // A live session with a few packets to read.
      const c = await RelayClient.connect(url, {
        hostname: 'livehost',
        sessionName: 'unread',
        liveTimerUs: 100_000,
      });
      await replayTrace(c, WITH_INDEX);
      const session = [...d.state.sessions.values()].find((s) => s.name === 'unread')!;
      const stream = session.streams.find((s) => !s.isMetadata)!;
      const viewer = await RawPeer.connect(d.ports.live, { paused: true });
      const setup = Buffer.concat([
        CONNECT,
        live(C.ViewerCommand.CREATE_SESSION, Buffer.alloc(0)),
        live(
          C.ViewerCommand.ATTACH_SESSION,
          C.ViewerAttachRequest.encode({ session_id: session.id, offset: 0n, seek: C.ViewerSeek.BEGINNING }),
        ),
      ]);
      // 4,000 requests for 16 KiB (64 MiB of replies, more than the kernel buffers) that it never reads.
      const ask = live(
        C.ViewerCommand.GET_PACKET,
        C.ViewerGetPacket.encode({ stream_id: stream.handle, offset: 0, len: 16384 }),
      );
      await viewer.write(Buffer.concat([setup, ...Array.from({ length: 4000 }, () => ask)]));
      await waitFor('the viewer to be closed', () => d.status().connections.live === 0, 10_000);
      // (It sees the end once it reads again.)
      viewer.sock.resume();
      expect(await viewer.waitClosed(10_000)).not.toBeNull();
      // It got no further than the output high-water mark (1 MiB) plus what the kernel holds.
      expect(d.state.budget.peak).toBeLessThan(8 << 20);
      expect(
        logs.some((l) =>
          /live connection .*closed: left \d+ bytes of replies unread for [\d.]+ s \(--command-timeout 1\.5 s per MiB waiting\)/.test(
            l,
          ),
        ),
      ).toBe(true);
      await c.close();
      await validSession(url, out, 'after-unread');
    } finally {
      await d.close();
    }
  });
});

describe('relayd logs what peers send, escaped', () => {
  it('escapes control characters in session names, host names and paths', () => {
    expect(escapeControls('a\nb\x1b[31mc\x07d\u009b2Je\u202ef\tg\x7f')).toBe(
      'a\\nb\\e[31mc\\x07d\\x9b2Je\\u{202e}f\\tg\\x7f',
    );
    expect(escapeControls('ust/uid/0/64-bit channel0_0 héllo')).toBe('ust/uid/0/64-bit channel0_0 héllo');
  });

  it('never writes a raw control character into the log', async () => {
    const { d, logs, url, out } = await startRelay('escape', {});
    try {
      const p = d.ports;
      // Refused (control characters are not allowed in names): the refusal quotes the name.
      const bad = await RawPeer.connect(p.control);
      await bad.write(
        Buffer.concat([VERSION, createSession('evil\nrelayd: session admin/x accepted\x1b[2J', 'h\rx')]),
      );
      expect(await bad.waitClosed(5000)).not.toBeNull();
      // Accepted by the name rules (as lttng-relayd accepts them) but unsafe on a terminal: C1 CSI,
      // DEL, a bidi override.
      const { peer } = await rawSession(p.control, 'ok\u009b31m\u202eevil\x7f', 'host\u2028two');
      await peer.write(addStream('ch\u0085', 'p\u009b/q'));
      await peer.read(C.StatusStream.size);
      peer.destroy();
      await waitFor('the session to close', () => d.status().activeSessions === 0);
      const joined = logs.join('\n');
      // eslint-disable-next-line no-control-regex
      for (const l of logs) expect(l, l).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
      expect(joined).toContain('unsafe session name "evil\\nrelayd: session admin/x accepted\\e[2J"');
      expect(joined).toContain('session host\\u{2028}two/ok\\x9b31m\\u{202e}evil\\x7f');
      await validSession(url, out, 'after-escape');
    } finally {
      await d.close();
    }
  });
});

describe('relayd leaves no empty directories behind', () => {
  it('removes what a failed session or stream creation made, and only that', async () => {
    const { d, out, url } = await startRelay('dirs', {});
    try {
      const p = d.ports;
      // 250 characters are a valid name, but not with "-YYYYmmdd-HHMMSS" (266 > 255 bytes).
      const long = 's'.repeat(250);
      const peer = await RawPeer.connect(p.control);
      await peer.write(Buffer.concat([VERSION, createSession(long, 'newhost')]));
      await peer.read(C.VersionMsg.size);
      expect(C.CreateSessionReply211.decode(await peer.read(C.CreateSessionReply211.size)).ret_code).toBe(
        C.LttngErr.FATAL,
      );
      expect(await peer.waitClosed(5000)).not.toBeNull();
      expect(existsSync(join(out, 'newhost'))).toBe(false);

      // A host directory that existed before the attempt stays, with what is in it.
      mkdirSync(join(out, 'oldhost'));
      writeFileSync(join(out, 'oldhost', 'keep'), 'x');
      const again = await RawPeer.connect(p.control);
      await again.write(Buffer.concat([VERSION, createSession(long, 'oldhost')]));
      expect(await again.waitClosed(5000)).not.toBeNull();
      expect(readdirSync(join(out, 'oldhost'))).toEqual(['keep']);

      // A stream whose path has a component too long: no partial path in the session directory.
      const { peer: owner } = await rawSession(p.control, 'streams', 'streamhost');
      await owner.write(addStream('ch_0', `a/b/${'c'.repeat(300)}/d`));
      const r = C.StatusStream.decode(await owner.read(C.StatusStream.size));
      expect(r.ret_code).toBe(C.LttngErr.UNK);
      const session = [...d.state.sessions.values()].find((s) => s.name === 'streams')!;
      expect(readdirSync(session.dir)).toEqual([]);
      // The session still works.
      await owner.write(addStream('ch_0', 'a/b'));
      expect(C.StatusStream.decode(await owner.read(C.StatusStream.size)).ret_code).toBe(C.LttngErr.OK);
      expect(readdirSync(join(session.dir, 'a', 'b'))).toEqual(['ch_0']);
      owner.destroy();
      await validSession(url, out, 'after-dirs');
    } finally {
      await d.close();
    }
  });
});

describe('relayd limits: defaults and the budget itself', () => {
  it('derives the connection cap from the open-files limit', () => {
    expect(defaultMaxConnections(20_000)).toBe(1024);
    expect(defaultMaxConnections(1024)).toBe(160);
    expect(defaultMaxConnections(256)).toBe(32);
    expect(defaultMaxConnections(16)).toBe(16);
    expect(resolveLimits({})).toMatchObject({
      commandTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      memoryBudget: 192 << 20,
    });
    expect(() => resolveLimits({ commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs must be positive/);
  });

  it('frees the largest holders until the total fits, each once', () => {
    const b = new MemoryBudget(100);
    const evicted: string[] = [];
    const holder = (name: string, freeOnEvict: boolean) => {
      const h = {
        charged: 0,
        dead: false,
        evict: () => {
          evicted.push(name);
          if (freeOnEvict) b.sub(h, h.charged);
        },
        describeHolding: () => name,
      };
      return h;
    };
    const a = holder('a', true);
    const big = holder('big', true);
    const stuck = holder('stuck', false); // evicting it frees nothing (already gone)
    b.add(a, 30);
    b.add(big, 60);
    expect(b.enforce()).toBe(0);
    b.add(stuck, 70);
    expect(b.over).toBe(true);
    expect(b.enforce()).toBe(2); // stuck (70) frees nothing, then big (60)
    expect(evicted).toEqual(['stuck', 'big']);
    expect(b.used).toBe(100);
    expect(b.peak).toBe(160);
    b.sub(stuck, 70);
    b.sub(a, 30);
    expect(b.used).toBe(0);
  });
});
