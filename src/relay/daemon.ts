/**
 * `RelayDaemon`: the three listeners (control, data, live) over one shared `RelayState`.
 * Start it, read `status()` for the status line, `close()` it to stop: partial packets are
 * dropped, indexes still on their way get a short grace period, files are closed.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Server, Socket, SocketConstructorOpts } from 'node:net';
import { createServer, Socket as NetSocket } from 'node:net';
import { NstraceError } from '../util/errors.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_DATA_PORT, DEFAULT_LIVE_PORT } from './codec.js';
import type { Conn, ConnKind } from './conn.js';
import { LimitError } from './conn.js';
import { ControlConnection } from './control.js';
import { DataConnection } from './data.js';
import type { RelayLimits } from './limits.js';
import { resolveLimits } from './limits.js';
import { LiveConnection } from './live.js';
import type { GroupBy } from './paths.js';
import type { LogFn, RelayCounters } from './types.js';
import { RelayState } from './state.js';

export { DEFAULT_CONTROL_PORT, DEFAULT_DATA_PORT, DEFAULT_LIVE_PORT };

export interface ListenSpec {
  host: string;
  /** 0 picks a free port (see `RelayDaemon.ports`). */
  port: number;
}

export interface RelayDaemonOptions {
  /** Where traces go (lttng-relayd: `--output`, default `$LTTNG_HOME/lttng-traces`). */
  outputDir: string;
  /** Default 0.0.0.0:5342. */
  control?: ListenSpec;
  /** Default 0.0.0.0:5343. */
  data?: ListenSpec;
  /** Default 127.0.0.1:5344 (as lttng-relayd: live viewers are local unless asked). */
  live?: ListenSpec;
  groupBy?: GroupBy;
  log?: LogFn;
  /** Log every control and live command and reply at debug level. */
  traceProtocol?: boolean;
  /** Stream and index files kept open at once; more are reopened on use. Default: half the open-files limit. */
  maxOpenFiles?: number;
  /** How long a stream whose sender left waits for announced data. Default 30 s. */
  orphanTimeoutMs?: number;
  /** How long `close()` waits for indexes of packets already on disk. Default 2000 ms. */
  shutdownGraceMs?: number;
  /** Timeouts, connection caps and the memory budget (defaults: see limits.ts). */
  limits?: Partial<RelayLimits>;
}

export interface RelayStatus {
  /** Sessions whose sender is connected. */
  activeSessions: number;
  /** Sessions still known (including finished ones a viewer is still reading). */
  sessions: number;
  openStreams: number;
  connections: { control: number; data: number; live: number };
  counters: RelayCounters;
  /** The memory budget: bytes held for peers now, the most held so far, the limit. */
  memory: { held: number; peak: number; budget: number };
}

export class RelayDaemon {
  private readonly conns = new Set<Conn>();
  private readonly open: Record<ConnKind, number> = { control: 0, data: 0, live: 0 };
  /** Refusals at the connection cap not logged yet, and when the last line was logged, per port. */
  private readonly refusals: Record<ConnKind, { unlogged: number; lastLog: number }> = {
    control: { unlogged: 0, lastLog: 0 },
    data: { unlogged: 0, lastLog: 0 },
    live: { unlogged: 0, lastLog: 0 },
  };
  private closing: Promise<void> | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  private constructor(
    readonly state: RelayState,
    private readonly servers: { control: Server; data: Server; live: Server },
    readonly ports: { control: number; data: number; live: number },
    private readonly graceMs: number,
    readonly limits: RelayLimits,
  ) {}

  static async start(options: RelayDaemonOptions): Promise<RelayDaemon> {
    const log: LogFn = options.log ?? (() => undefined);
    const limits = resolveLimits(options.limits);
    mkdirSync(options.outputDir, { recursive: true, mode: 0o770 });
    const state = new RelayState({
      outputDir: options.outputDir,
      groupBy: options.groupBy ?? 'host',
      log,
      traceProtocol: options.traceProtocol === true,
      orphanTimeoutMs: options.orphanTimeoutMs,
      maxOpenFiles: options.maxOpenFiles,
      memoryBudget: limits.memoryBudget,
    });
    const specs = {
      control: options.control ?? { host: '0.0.0.0', port: DEFAULT_CONTROL_PORT },
      data: options.data ?? { host: '0.0.0.0', port: DEFAULT_DATA_PORT },
      live: options.live ?? { host: '127.0.0.1', port: DEFAULT_LIVE_PORT },
    };
    let daemon: RelayDaemon | null = null;
    const accept =
      (kind: ConnKind, make: (sock: Socket, gone: (c: Conn) => void) => Conn) => (sock: Socket) => {
        if (daemon === null || daemon.closing !== null) {
          sock.destroy();
          return;
        }
        const d = daemon;
        if (d.open[kind] >= limits.maxConnections) {
          d.refuse(kind, sock);
          return;
        }
        state.counters.connectionsAccepted++;
        d.open[kind]++;
        d.conns.add(
          make(sock, (c) => {
            if (d.conns.delete(c)) d.open[c.kind]--;
          }),
        );
      };
    const servers = {
      control: createServer(accept('control', (s, g) => new ControlConnection(s, state, g))),
      data: createServer(
        { pauseOnConnect: true },
        accept('data', (s, g) => {
          const own = readIntoSharedBuffer(s);
          const c = new DataConnection(own?.sock ?? s, state, g);
          if (own !== null) own.target = c;
          else s.resume();
          return c;
        }),
      ),
      live: createServer(accept('live', (s, g) => new LiveConnection(s, state, g))),
    };
    const started: Server[] = [];
    try {
      for (const kind of ['control', 'data', 'live'] as const) {
        await listen(servers[kind], specs[kind], kind);
        started.push(servers[kind]);
      }
    } catch (err) {
      for (const s of started) s.close();
      throw err;
    }
    const port = (s: Server): number => (s.address() as AddressInfo).port;
    daemon = new RelayDaemon(
      state,
      servers,
      { control: port(servers.control), data: port(servers.data), live: port(servers.live) },
      options.shutdownGraceMs ?? 2000,
      limits,
    );
    for (const s of Object.values(servers)) {
      s.on('error', (err) => log('error', `listener: ${err.message}`));
    }
    const d = daemon;
    const tick = Math.max(50, Math.min(1000, Math.min(limits.commandTimeoutMs, limits.idleTimeoutMs) / 4));
    d.sweeper = setInterval(() => d.sweep(), tick);
    d.sweeper.unref();
    return daemon;
  }

  /** At the connection cap: close the newcomer, and say so (at most a line per port every 10 s). */
  private refuse(kind: ConnKind, sock: Socket): void {
    const from = `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`;
    sock.destroy();
    this.state.counters.connectionsRefused++;
    const r = this.refusals[kind];
    r.unlogged++;
    const now = Date.now();
    if (now - r.lastLog < 10_000) return;
    const more = r.unlogged > 1 ? ` (${r.unlogged - 1} more refused since the last report)` : '';
    r.unlogged = 0;
    r.lastLog = now;
    this.state.log(
      'warn',
      `${kind} port: refused a connection from ${from}: ${this.open[kind]} open, the limit ` +
        `(--max-connections ${this.limits.maxConnections})${more}`,
    );
  }

  /**
   * The limits that need a clock: a command that stalls, replies nobody reads, a connection
   * idle without a session. Runs a few times per the shortest timeout.
   */
  private sweep(): void {
    const now = Date.now();
    const L = this.limits;
    const sessionAddrs = new Set<string>();
    for (const c of this.conns) {
      if (c.kind === 'control' && !c.dead && c.hasSession(sessionAddrs)) {
        sessionAddrs.add(c.sock.remoteAddress ?? '');
      }
    }
    for (const c of [...this.conns]) {
      if (c.dead) continue;
      if (c.partialSince > 0 && now - c.partialSince > L.commandTimeoutMs) {
        c.fail(
          new LimitError(
            `sent ${c.describeCommand()}, then too little for ${seconds(now - c.partialSince)} ` +
              `(--command-timeout ${seconds(L.commandTimeoutMs)})`,
          ),
        );
        continue;
      }
      // Replies the peer does not take: a write completes at least every timeout per MiB waiting
      // (a slow link reading one big GET_PACKET answer is not a stalled peer).
      const unread = c.checkOutput(now);
      const allowed = L.commandTimeoutMs * Math.max(1, Math.ceil(unread / (1024 * 1024)));
      if (unread > 0 && now - c.lastOutputProgress > allowed) {
        c.fail(
          new LimitError(
            `left ${unread} bytes of replies unread for ${seconds(now - c.lastOutputProgress)} ` +
              `(--command-timeout ${seconds(L.commandTimeoutMs)} per MiB waiting)`,
          ),
        );
        continue;
      }
      if (now - c.lastInput > L.idleTimeoutMs && !c.hasSession(sessionAddrs)) {
        c.fail(
          new LimitError(
            `idle for ${seconds(now - c.lastInput)} without a session ` +
              `(--idle-timeout ${seconds(L.idleTimeoutMs)})`,
          ),
        );
      }
    }
    // Refusals made quiet by the one-line-per-10-s rule are counted once the burst is over.
    for (const kind of ['control', 'data', 'live'] as const) {
      const r = this.refusals[kind];
      if (r.unlogged > 0 && now - r.lastLog >= 10_000) {
        this.state.log(
          'warn',
          `${kind} port: ${r.unlogged} more connection(s) refused (--max-connections ${L.maxConnections})`,
        );
        r.unlogged = 0;
        r.lastLog = now;
      }
    }
    if (this.state.budget.over) this.state.budget.enforce();
  }

  status(): RelayStatus {
    const connections = { control: 0, data: 0, live: 0 };
    for (const c of this.conns) connections[c.kind]++;
    let active = 0;
    for (const s of this.state.sessions.values()) if (!s.connectionClosed) active++;
    return {
      activeSessions: active,
      sessions: this.state.sessions.size,
      openStreams: this.state.streams.size,
      connections,
      counters: { ...this.state.counters },
      memory: { held: this.state.budget.used, peak: this.state.budget.peak, budget: this.state.budget.limit },
    };
  }

  /**
   * Stops listening and closes every connection. Data connections go first (a packet cut in
   * the middle is dropped); control connections get up to `shutdownGraceMs` to deliver the
   * indexes of packets already on disk; then every file is closed.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    for (const s of Object.values(this.servers)) s.close();
    const byKind = (k: Conn['kind']): Conn[] => [...this.conns].filter((c) => c.kind === k);
    await destroyAll(byKind('data'));
    const deadline = Date.now() + this.graceMs;
    while (Date.now() < deadline && byKind('control').length > 0 && this.unindexed() > 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await destroyAll([...this.conns]);
    const left = this.unindexed();
    if (left > 0) {
      this.state.log('warn', `${left} packet(s) are on disk without their index (the sender never sent it)`);
    }
    this.state.closeAll();
  }

  private unindexed(): number {
    let n = 0;
    for (const s of this.state.streams.values()) n += s.unindexedPackets();
    return n;
  }
}

/**
 * Data connections carry nearly all the bytes. Node gives each socket read a new 64 KiB
 * buffer; reading into one reused 1 MiB buffer instead (the `onread` option of `net.Socket`)
 * halves the user CPU per GB and takes bigger reads. Reads are handled synchronously, so one
 * buffer serves every data connection: after each read the connection copies the little it
 * keeps (`DataConnection.detach`). Node offers `onread` only for sockets it creates, so the
 * accepted socket's handle moves to a new socket; if that is not possible (a Node without
 * `_handle`), the connection reads the ordinary way.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

function readIntoSharedBuffer(accepted: Socket): { sock: Socket; target: DataConnection | null } | null {
  const inner = accepted as unknown as { _handle?: { readStart?: unknown } | null };
  const handle = inner._handle;
  if (handle === null || handle === undefined || typeof handle.readStart !== 'function') return null;
  const out: { sock: Socket; target: DataConnection | null } = {
    sock: undefined as unknown as Socket,
    target: null,
  };
  inner._handle = null;
  accepted.destroy();
  // `handle` is how Node itself wraps accepted connections; it is not in the typings.
  const opts = {
    handle,
    onread: {
      buffer: SHARED_READ_BUFFER,
      callback: (n: number, buf: Uint8Array): boolean => {
        const c = out.target;
        if (c !== null) {
          c.ingest(Buffer.from(buf.buffer, buf.byteOffset, n));
          c.detach(SHARED_READ_BUFFER.buffer);
        }
        return true;
      },
    },
  };
  out.sock = new NetSocket(opts as unknown as SocketConstructorOpts);
  return out;
}

function listen(server: Server, spec: ListenSpec, kind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new NstraceError(
          `cannot listen for ${kind} connections on ${spec.host}:${spec.port}: ${err.code ?? err.message}` +
            (err.code === 'EADDRINUSE' ? ' (another relay daemon is running? pick another port)' : ''),
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port, backlog: 511 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function destroyAll(conns: Conn[]): Promise<void> {
  return Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.sock.destroyed && c.sock.closed) return resolve();
          c.sock.once('close', () => resolve());
          c.sock.destroy();
        }),
    ),
  ).then(() => undefined);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}
