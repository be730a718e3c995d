/**
 * Robustness of `nstrace relayd`: garbage, truncated and absurd messages, unknown commands,
 * senders killed at random points, 100 connections at once, a restart over earlier output.
 * The daemon must survive all of it, leave other sessions alone, and keep on disk exactly the
 * complete packets it received.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIndexFile } from '../../src/ctf/index-file.js';
import * as C from '../../src/relay/codec.js';
import { prepareReplay, RelayClient, RelayDaemon, replayTrace } from '../../src/relay/index.js';
import { babeltrace, checkPrefixOfOriginal, files, sleep, tempDir, waitFor } from './helpers.js';

const WITH_INDEX = fileURLToPath(new URL('../fixtures/babeltrace/trace-with-index', import.meta.url));

/** Deterministic pseudo-random numbers (the seed is printed when a check fails). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Sends `bytes` to `port`, then waits until the relay closes the connection or `ms` pass. */
async function poke(
  port: number,
  bytes: Buffer,
  ms = 2000,
): Promise<{ reply: Buffer; closedByRelay: boolean }> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let done = false;
    const finish = (closedByRelay: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ reply: Buffer.concat(got), closedByRelay });
    };
    const timer = setTimeout(() => finish(false), ms);
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => finish(true));
    sock.on('end', () => finish(true));
    sock.on('connect', () => sock.write(bytes));
  });
}

function ctrl(cmd: number, payload: Buffer, dataSize = payload.length): Buffer {
  return Buffer.concat([
    C.RelaydHdr.encode({ circuit_id: 0, data_size: dataSize, cmd, cmd_version: 0 }),
    payload,
  ]);
}

function live(cmd: number, payload: Buffer): Buffer {
  return Buffer.concat([C.ViewerCmd.encode({ data_size: payload.length, cmd, cmd_version: 0 }), payload]);
}

const VERSION = ctrl(C.RelaydCommand.VERSION, C.VersionMsg.encode({ major: 2, minor: 13 }));
const CONNECT = live(
  C.ViewerCommand.CONNECT,
  C.ViewerConnect.encode({ viewer_session_id: -1, major: 2, minor: 4, type: 1 }),
);

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A TCP proxy to the relay that cuts a client's connections after some number of bytes. */
class Cutter {
  private servers: Server[] = [];
  private socks: Socket[] = [];
  sent = 0;
  cutAt = Infinity;
  ports = { control: 0, data: 0 };

  static async start(target: { control: number; data: number }): Promise<Cutter> {
    const c = new Cutter();
    for (const kind of ['control', 'data'] as const) {
      const server = createServer((down) => {
        const up = connect({ host: '127.0.0.1', port: target[kind] });
        c.socks.push(down, up);
        down.on('data', (d: Buffer) => {
          const room = c.cutAt - c.sent;
          if (room <= 0) return;
          if (d.length >= room) {
            up.write(d.subarray(0, room), () => c.killAll());
            c.sent += room;
          } else {
            up.write(d);
            c.sent += d.length;
          }
        });
        up.on('data', (d: Buffer) => down.write(d));
        for (const s of [down, up]) {
          s.on('error', () => c.killAll());
          s.on('close', () => c.killAll());
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      c.ports[kind] = (server.address() as { port: number }).port;
      c.servers.push(server);
    }
    return c;
  }

  /** The sender "dies": every connection drops at once. */
  killAll(): void {
    for (const s of this.socks) s.destroy();
  }

  close(): void {
    this.killAll();
    for (const s of this.servers) s.close();
  }
}

describe('nstrace relayd under faults', () => {
  let work: string;
  let daemon: RelayDaemon;
  let url: string;
  const logs: string[] = [];

  beforeAll(async () => {
    work = tempDir('relay-faults');
    daemon = await RelayDaemon.start({
      outputDir: join(work, 'out'),
      control: { host: '127.0.0.1', port: 0 },
      data: { host: '127.0.0.1', port: 0 },
      live: { host: '127.0.0.1', port: 0 },
      log: (l, m) => logs.push(`${l} ${m}`),
      orphanTimeoutMs: 1000,
    });
    url = `net://127.0.0.1:${daemon.ports.control}:${daemon.ports.data}`;
  });

  afterAll(async () => {
    await daemon?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  async function cleanReplay(name: string): Promise<string> {
    const c = await RelayClient.connect(url, { hostname: 'faulthost', sessionName: name });
    await replayTrace(c, WITH_INDEX);
    await c.close();
    return join(work, 'out', c.outputPath, 'trace-with-index');
  }

  it('shrugs off garbage, truncated headers, absurd sizes and unknown commands', async () => {
    // A session in progress on the side must not notice anything.
    const bystander = await RelayClient.connect(url, { hostname: 'faulthost', sessionName: 'bystander' });
    const replay = await prepareReplay(bystander, WITH_INDEX);
    const p = daemon.ports;
    const errorsBefore = daemon.status().counters.protocolErrors;
    const r = rng(42);
    const garbage = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));

    // Control port.
    expect((await poke(p.control, garbage)).closedByRelay).toBe(true);
    expect((await poke(p.control, VERSION.subarray(0, 10), 300)).closedByRelay).toBe(false); // waits for more
    const absurd = await poke(p.control, ctrl(C.RelaydCommand.VERSION, Buffer.alloc(0), 2 ** 52));
    expect(absurd.closedByRelay).toBe(true);
    const unknown = await poke(p.control, Buffer.concat([VERSION, ctrl(99, Buffer.alloc(8))]));
    expect(unknown.closedByRelay).toBe(true);
    expect(unknown.reply.subarray(8)).toEqual(C.GenericReply.encode({ ret_code: C.LttngErr.UNK }));
    const beforeVersion = await poke(p.control, ctrl(C.RelaydCommand.ADD_STREAM, Buffer.alloc(40)));
    expect(beforeVersion.closedByRelay).toBe(true);
    const badSession = Buffer.alloc(C.CreateSession211.size);
    C.CreateSession211.encodeInto(
      {
        session_name_len: 3,
        hostname_len: 3,
        base_path_len: 4,
        live_timer: 0,
        snapshot: 0,
        session_name_contains_creation_time: 0,
        sessiond_uuid: Buffer.alloc(16, 1),
        session_id: 1,
        creation_time: 0,
        current_chunk_id_is_set: 0,
        current_chunk_id: 0,
      },
      badSession,
      0,
    );
    const escape = await poke(
      p.control,
      Buffer.concat([
        VERSION,
        ctrl(C.RelaydCommand.CREATE_SESSION, Buffer.concat([badSession, Buffer.from('..\0h1\0../\0')])),
      ]),
    );
    expect(escape.closedByRelay).toBe(true);
    expect(C.CreateSessionReply211.decode(escape.reply.subarray(8)).ret_code).toBe(C.LttngErr.FATAL);
    // A short payload for a command that needs more.
    expect(
      (await poke(p.control, Buffer.concat([VERSION, ctrl(C.RelaydCommand.CLOSE_STREAM, Buffer.alloc(3))])))
        .closedByRelay,
    ).toBe(true);

    // Data port: unknown stream, absurd sizes for it, garbage, a truncated header.
    const unknownStream = C.DataHdr.encode({
      circuit_id: 0,
      stream_id: 999_999,
      net_seq_num: 0,
      data_size: 0xffffffff,
      padding_size: 0xffffffff,
    });
    expect((await poke(p.data, unknownStream)).closedByRelay).toBe(true);
    expect((await poke(p.data, garbage)).closedByRelay).toBe(true);
    expect((await poke(p.data, unknownStream.subarray(0, 20), 300)).closedByRelay).toBe(false);

    // Live port.
    expect((await poke(p.live, garbage)).closedByRelay).toBe(true);
    const unknownLive = await poke(p.live, Buffer.concat([CONNECT, live(77, Buffer.alloc(0))]));
    expect(unknownLive.closedByRelay).toBe(true);
    expect(unknownLive.reply.subarray(C.ViewerConnect.size)).toEqual(
      C.GenericReply.encode({ ret_code: C.LttngErr.UNK }),
    );
    expect((await poke(p.live, live(C.ViewerCommand.LIST_SESSIONS, Buffer.alloc(0)))).closedByRelay).toBe(
      true,
    );
    const hugePacket = await poke(
      p.live,
      Buffer.concat([
        CONNECT,
        live(
          C.ViewerCommand.GET_PACKET,
          C.ViewerGetPacket.encode({ stream_id: 1, offset: 2 ** 50, len: 0xffffffff }),
        ),
      ]),
      500,
    );
    expect(hugePacket.closedByRelay).toBe(false);
    expect(C.ViewerTracePacket.decode(hugePacket.reply.subarray(C.ViewerConnect.size)).status).toBe(
      C.ViewerPacketStatus.ERR,
    );
    expect((await poke(p.live, Buffer.alloc(0), 200)).closedByRelay).toBe(false); // lttng's probe: connect, close

    expect(daemon.status().counters.protocolErrors).toBeGreaterThan(errorsBefore + 8);
    // The bystander finishes its trace as if nothing happened.
    await replay.sendPackets();
    await bystander.close();
    const dir = join(work, 'out', bystander.outputPath, 'trace-with-index');
    for (const f of files(WITH_INDEX)) expect(sha(join(dir, f)), f).toBe(sha(join(WITH_INDEX, f)));
    // And the relay still takes new sessions.
    const again = await cleanReplay('after-garbage');
    expect((await babeltrace([again])).stdout).toEqual((await babeltrace([WITH_INDEX])).stdout);
  });

  it('keeps exactly the complete packets when the sender dies at random points', async () => {
    const seed = 20181127;
    const r = rng(seed);
    // How many bytes a whole replay puts on the wire (both connections).
    const probe = await Cutter.start(daemon.ports);
    const full = await RelayClient.connect(`net://127.0.0.1:${probe.ports.control}:${probe.ports.data}`, {
      hostname: 'cuthost',
      sessionName: 'full',
    });
    await replayTrace(full, WITH_INDEX);
    await full.close();
    const total = probe.sent;
    probe.close();
    expect(total).toBeGreaterThan(80_000);

    for (let i = 0; i < 25; i++) {
      const cut = Math.floor(r() * total);
      const cutter = await Cutter.start(daemon.ports);
      cutter.cutAt = cut;
      let outputPath: string | null = null;
      try {
        const c = await RelayClient.connect(`net://127.0.0.1:${cutter.ports.control}:${cutter.ports.data}`, {
          hostname: 'cuthost',
          sessionName: `cut${i}`,
        });
        outputPath = c.outputPath;
        await replayTrace(c, WITH_INDEX);
        await c.close();
      } catch {
        // The sender died: expected.
      } finally {
        cutter.close();
      }
      if (outputPath === null) continue; // died before the session existed
      const dir = join(work, 'out', outputPath, 'trace-with-index');
      // Wait until the relay has noticed and closed every stream of the session.
      await waitFor(
        'the session to be closed',
        () => ![...daemon.state.sessions.values()].some((s) => s.name === `cut${i}`),
      );
      let packets = 0;
      try {
        packets = checkPrefixOfOriginal(dir, WITH_INDEX);
      } catch (err) {
        throw new Error(
          `seed ${seed}, round ${i}, cut at byte ${cut} of ${total}: ${(err as Error).message}`,
        );
      }
      if (
        statSync(join(dir, 'metadata')).size === statSync(join(WITH_INDEX, 'metadata')).size &&
        packets > 0
      ) {
        // Every event it reads is one of the original's (deltas differ when some are missing).
        const noDelta = (t: string) => t.split('\n').map((l) => l.replace(/^(\[[^\]]*\]) \([^)]*\)/, '$1'));
        const lines = noDelta((await babeltrace([dir])).stdout).filter((l) => l !== '');
        expect(lines.length).toBeGreaterThan(0);
        const all = new Set(noDelta((await babeltrace([WITH_INDEX])).stdout));
        for (const l of lines) expect(all.has(l), l).toBe(true);
      }
    }
  });

  it('takes 100 senders at once, and 100 idle connections', async () => {
    const idle = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const port = [daemon.ports.control, daemon.ports.data, daemon.ports.live][i % 3]!;
        return new Promise<Socket>((resolve) => {
          const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.on('error', () => undefined);
        });
      }),
    );
    const dirs = await Promise.all(Array.from({ length: 100 }, (_, i) => cleanReplay(`many${i}`)));
    expect(new Set(dirs).size).toBe(100);
    const want = files(WITH_INDEX).map((f) => [f, sha(join(WITH_INDEX, f))] as const);
    for (const d of dirs) for (const [f, h] of want) expect(sha(join(d, f)), `${d}/${f}`).toBe(h);
    for (const s of idle) s.destroy();
    await waitFor('idle connections to go', () => daemon.status().connections.live === 0);
  });

  it('never writes over what an earlier run of the daemon wrote', async () => {
    const out = join(work, 'restart');
    const opts = {
      outputDir: out,
      control: { host: '127.0.0.1', port: 0 },
      data: { host: '127.0.0.1', port: 0 },
      live: { host: '127.0.0.1', port: 0 },
    };
    const creationTime = 1_700_000_000;
    const sendOnce = async (d: RelayDaemon): Promise<string> => {
      const c = await RelayClient.connect(`net://127.0.0.1:${d.ports.control}:${d.ports.data}`, {
        hostname: 'samehost',
        sessionName: 'samesession',
        creationTime,
      });
      await replayTrace(c, WITH_INDEX);
      await c.close();
      return c.outputPath;
    };
    const d1 = await RelayDaemon.start(opts);
    const first = await sendOnce(d1);
    await d1.close();
    const before = files(join(out, first)).map((f) => [f, sha(join(out, first, f))]);
    const d2 = await RelayDaemon.start(opts);
    try {
      const second = await sendOnce(d2);
      expect(second).toBe(`${first}-1`);
      const third = await sendOnce(d2);
      expect(third).toBe(`${first}-2`);
    } finally {
      await d2.close();
    }
    expect(files(join(out, first)).map((f) => [f, sha(join(out, first, f))])).toEqual(before);
  });

  it('drops a half-received packet when the data connection breaks', async () => {
    const c = await RelayClient.connect(url, { hostname: 'faulthost', sessionName: 'halfpacket' });
    const meta = await c.addStream('metadata', 'tr');
    const ch = await c.addStream('ch_0', 'tr');
    await c.streamsSent();
    const metaBytes = readFileSync(join(WITH_INDEX, 'metadata'));
    await c.sendMetadata(meta, metaBytes);
    const data = readFileSync(join(WITH_INDEX, 'ust_channel_0'));
    const idx = parseIndexFile(readFileSync(join(WITH_INDEX, 'index', 'ust_channel_0.idx')), 'x').entries;
    // One whole packet with its index.
    await c.sendPacket(ch, data.subarray(0, 4096), idx[0]!);
    await c.flush();
    await c.waitDelivered();
    // Then 9 MiB of a 16 MiB packet (more than the relay buffers: part of it reaches the
    // file) and the sender dies.
    const raw = connect({ host: '127.0.0.1', port: daemon.ports.data });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    raw.write(
      C.DataHdr.encode({
        circuit_id: 0,
        stream_id: ch.id,
        net_seq_num: 1,
        data_size: 16 << 20,
        padding_size: 0,
      }),
    );
    raw.write(Buffer.alloc(9 << 20, 0x55));
    const dir = join(work, 'out', c.outputPath, 'tr');
    await waitFor('part of the packet to reach the file', () => statSync(join(dir, 'ch_0')).size > 4096);
    raw.destroy();
    await waitFor('the partial packet to be removed', () => statSync(join(dir, 'ch_0')).size === 4096);
    await sleep(100);
    c.destroy();
    expect(readFileSync(join(dir, 'ch_0')).equals(data.subarray(0, 4096))).toBe(true);
    expect(logs.some((l) => l.includes('closed in the middle of packet 1'))).toBe(true);
  });

  it('indexes packets whose index arrives after their tracefile was left behind', async () => {
    const c = await RelayClient.connect(url, { hostname: 'faulthost', sessionName: 'lateindex' });
    const meta = await c.addStream('metadata', 'tr');
    // 5000 bytes per tracefile: every 4 KiB packet opens the next file.
    const ch = await c.addStream('ust_channel_0', 'tr', { tracefileSize: 5000, tracefileCount: 10 });
    await c.streamsSent();
    await c.sendMetadata(meta, readFileSync(join(WITH_INDEX, 'metadata')));
    const data = readFileSync(join(WITH_INDEX, 'ust_channel_0'));
    const idx = parseIndexFile(readFileSync(join(WITH_INDEX, 'index', 'ust_channel_0.idx')), 'x').entries;
    const seqs: number[] = [];
    for (const e of idx)
      seqs.push(await c.sendData(ch, data.subarray(e.offset, e.offset + e.packetSize / 8), 0));
    const dir = join(work, 'out', c.outputPath, 'tr');
    await waitFor('every packet on disk', () => {
      try {
        return statSync(join(dir, `ust_channel_0_${idx.length - 1}`)).size === 4096;
      } catch {
        return false;
      }
    });
    // Only now the indexes (the data connection raced ahead of the control connection).
    for (let i = 0; i < idx.length; i++) await c.sendIndex(ch, seqs[i]!, idx[i]!);
    await c.close();
    for (let i = 0; i < idx.length; i++) {
      const f = join(dir, 'index', `ust_channel_0_${i}.idx`);
      const entries = parseIndexFile(readFileSync(f), f).entries;
      expect(entries).toEqual([{ ...idx[i]!, offset: 0 }]);
    }
    const text = await babeltrace([dir]);
    expect(text.stderr).toBe('');
    expect(text.stdout.split('\n').filter((l) => l.includes('cpu_id'))).toHaveLength(1000);
  });

  it('works with fewer open files than streams', async () => {
    const small = await RelayDaemon.start({
      outputDir: join(work, 'few-files'),
      control: { host: '127.0.0.1', port: 0 },
      data: { host: '127.0.0.1', port: 0 },
      live: { host: '127.0.0.1', port: 0 },
      maxOpenFiles: 3,
    });
    try {
      const u = `net://127.0.0.1:${small.ports.control}:${small.ports.data}`;
      // 10 sessions x 5 streams (+ 4 index files each) at once, through 3 open files.
      const dirs = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const c = await RelayClient.connect(u, {
            hostname: 'fewhost',
            sessionName: `few${i}`,
            liveTimerUs: 100_000,
          });
          await replayTrace(c, WITH_INDEX);
          await c.close();
          return join(work, 'few-files', c.outputPath, 'trace-with-index');
        }),
      );
      expect(small.state.files.openCount).toBeLessThanOrEqual(3);
      const want = files(WITH_INDEX).map((f) => [f, sha(join(WITH_INDEX, f))] as const);
      for (const d of dirs) for (const [f, h] of want) expect(sha(join(d, f)), `${d}/${f}`).toBe(h);
    } finally {
      await small.close();
    }
    expect(small.state.files.openCount).toBe(0);
  });
});
