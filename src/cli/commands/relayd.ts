/**
 * `nstrace relayd`: an lttng-relayd compatible relay daemon. Thin: parse options, start
 * `RelayDaemon`, print its log and a status line, close it on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ListenSpec, LogLevel, RelayLimits, RelayStatus } from '../../relay/index.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONTROL_PORT,
  DEFAULT_DATA_PORT,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LIVE_PORT,
  DEFAULT_MEMORY_BUDGET,
  MAX_DEFAULT_CONNECTIONS,
  RelayDaemon,
} from '../../relay/index.js';
import { UsageError } from '../../util/errors.js';

interface RelaydOptions {
  output?: string;
  controlPort: string;
  dataPort: string;
  livePort: string;
  groupOutputByHost?: boolean;
  groupOutputBySession?: boolean;
  statusInterval: string;
  commandTimeout: string;
  idleTimeout: string;
  maxConnections?: string;
  memoryBudget: string;
  verbose: number;
  quiet?: boolean;
}

const HELP = `
Writes what it receives the way lttng-relayd does, so that babeltrace2 and Trace Compass read
it like a local trace:

  OUTPUT/HOST/SESSION-YYYYmmdd-HHMMSS/ust/uid/0/64-bit/{metadata,CHANNEL_CPU,index/*.idx}

Each sender shows up under its own hostname: a container with its own UTS namespace is its
own HOST. A name already on disk is never reused (an earlier run's output is never
overwritten): the new session goes to ...-1, -2, ...

Stream a session to it (LTTng 2.11 or later, or nstrace record):
  lttng create mysession --set-url=net://RELAY_HOST              # ports 5342 and 5343
  lttng create mysession --set-url=net://RELAY_HOST:6000:6001    # other ports
  lttng create mysession --live=1000000 --set-url=net://RELAY_HOST
  nstrace record --url net://RELAY_HOST ...

Read a live session while it is being recorded:
  babeltrace2 net://127.0.0.1:5344/host/HOST/mysession
  babeltrace2 -c src.ctf.lttng-live \\
      --params 'inputs=["net://127.0.0.1:5344/host/HOST/mysession"],session-not-found-action="end"'
List the sessions a relay offers:
  babeltrace2 -i lttng-live net://127.0.0.1:5344

Ports take PORT, HOST:PORT, tcp://HOST:PORT or tcp6://[ADDR]:PORT. Control and data listen on all interfaces
(0.0.0.0) by default, live on 127.0.0.1 only, as lttng-relayd does.

Not supported: session rotation (lttng rotate; chunks stay in the session directory),
lttng clear (refused by the session daemon), snapshot outputs, peers older than LTTng 2.11.

Limits (what one peer may cost; lttng-relayd has none of them, see docs/relay.md):
  --command-timeout SEC   a command, viewer request or data packet that has begun must arrive
                          whole, or advance by 64 KiB, within SEC seconds; else its connection
                          is closed (a peer that sends half a command and stalls). Also how long
                          a peer may leave our replies unread (per MiB waiting).
  --idle-timeout SEC      a connection without a session that sends nothing for SEC seconds is
                          closed (a data connection counts as having one once it carried a packet,
                          or while its address has a session on the control port; a viewer
                          while attached).
  --max-connections N     connections per port (control, data, live each); more are refused.
  --memory-budget SIZE    memory held for all peers together: unfinished commands, unread
                          replies, index halves waiting for their packet, stream state. Past it,
                          the connection holding the most is closed (small commands of new
                          sessions keep being served).
Every connection closed by a limit is logged with its reason. For example, many senders on a
big host, and stalls cut sooner:
  nstrace relayd --command-timeout 10 --max-connections 4096 --memory-budget 1G

Status goes to stderr: a live line on a terminal, a line every --status-interval seconds
otherwise. SIGINT/SIGTERM stop it cleanly: a packet cut in the middle is dropped, indexes
still on their way get two seconds, every file is closed.
`;

/** Seconds (decimals allowed) as milliseconds. */
function positiveSeconds(value: string, flag: string): number {
  const v = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(v > 0)) {
    throw new UsageError(`bad ${flag} "${value}" (seconds, more than 0; example: ${flag} 30)`);
  }
  return Math.round(v * 1000);
}

/** `256M`, `1G`, `512k`, or bytes. */
export function byteSize(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  const n = m === null ? NaN : Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (!(n >= 1)) throw new UsageError(`bad ${flag} "${value}" (a size: 256M, 1G, 65536)`);
  return Math.floor(n);
}

export function parseLimits(opts: {
  commandTimeout: string;
  idleTimeout: string;
  maxConnections?: string;
  memoryBudget: string;
}): Partial<RelayLimits> {
  const limits: Partial<RelayLimits> = {
    commandTimeoutMs: positiveSeconds(opts.commandTimeout, '--command-timeout'),
    idleTimeoutMs: positiveSeconds(opts.idleTimeout, '--idle-timeout'),
    memoryBudget: byteSize(opts.memoryBudget, '--memory-budget'),
  };
  if (limits.memoryBudget! < 1024 * 1024) {
    throw new UsageError(`--memory-budget ${opts.memoryBudget} is too small (at least 1M)`);
  }
  if (opts.maxConnections !== undefined) {
    const n = Number(opts.maxConnections);
    if (!/^\d+$/.test(opts.maxConnections.trim()) || n < 1) {
      throw new UsageError(`bad --max-connections "${opts.maxConnections}" (a count, at least 1)`);
    }
    limits.maxConnections = n;
  }
  return limits;
}

export function listenSpec(value: string, defaultHost: string, what: string): ListenSpec {
  // lttng-relayd's forms: tcp://HOST:PORT and tcp6://[ADDR]:PORT.
  const v = value.replace(/^tcp6?:\/\//, '');
  const m = /^(?:([^/]+):)?(\d+)$/.exec(v);
  if (m === null)
    throw new UsageError(
      `bad ${what} "${value}" (expected PORT, HOST:PORT, tcp://HOST:PORT or tcp6://[ADDR]:PORT)`,
    );
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`bad ${what} "${value}": port out of range`);
  let host = m[1] ?? defaultHost;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

function defaultOutput(): string {
  const home = process.env.LTTNG_HOME ?? process.env.HOME ?? homedir();
  return join(home, 'lttng-traces');
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function statusLine(s: RelayStatus, rate: number): string {
  const c = s.counters;
  const viewers = s.connections.live;
  return (
    `relayd: ${s.activeSessions} session${s.activeSessions === 1 ? '' : 's'}, ${s.openStreams} streams, ` +
    `${viewers} viewer${viewers === 1 ? '' : 's'}, ${human(rate)}/s, ` +
    `${human(c.bytesReceived + c.metadataBytesReceived)} received, ${c.packetsReceived} packets` +
    (c.closedByLimits > 0 ? `, ${c.closedByLimits} closed by limits` : '') +
    (c.connectionsRefused > 0 ? `, ${c.connectionsRefused} refused` : '')
  );
}

export function register(program: Command): void {
  program
    .command('relayd')
    .summary('relay daemon: receive LTTng traces over the network, serve them live')
    .description(
      'Relay daemon compatible with lttng-relayd 2.13: lttng-sessiond/lttng-consumerd (and nstrace record) ' +
        'stream traces to it from any number of hosts and containers; babeltrace2 reads sessions live from it.',
    )
    .option('-o, --output <dir>', 'output directory (default: $LTTNG_HOME/lttng-traces, else ~/lttng-traces)')
    .option('-C, --control-port <port>', 'control port, PORT or HOST:PORT', String(DEFAULT_CONTROL_PORT))
    .option('-D, --data-port <port>', 'data port, PORT or HOST:PORT', String(DEFAULT_DATA_PORT))
    .option('-L, --live-port <port>', 'live (viewer) port, PORT or HOST:PORT', String(DEFAULT_LIVE_PORT))
    .option('--group-output-by-host', 'HOST/SESSION-DATETIME/... (default)')
    .option('--group-output-by-session', 'SESSION/HOST-DATETIME/...')
    .option('--status-interval <seconds>', 'status line period when stderr is not a terminal (0: none)', '10')
    .option(
      '--command-timeout <seconds>',
      'close a connection whose command stalls half-sent (or whose replies go unread) this long',
      String(DEFAULT_COMMAND_TIMEOUT_MS / 1000),
    )
    .option(
      '--idle-timeout <seconds>',
      'close a connection without a session that sends nothing this long',
      String(DEFAULT_IDLE_TIMEOUT_MS / 1000),
    )
    .option(
      '--max-connections <n>',
      `connections per port (default: ${MAX_DEFAULT_CONNECTIONS}, less if the open-files limit is low)`,
    )
    .option(
      '--memory-budget <size>',
      'memory held for all peers (K, M, G suffixes); past it the largest holder is closed',
      `${DEFAULT_MEMORY_BUDGET / (1024 * 1024)}M`,
    )
    .option(
      '-v, --verbose',
      'more log (twice: every protocol command)',
      (_v: string, prev: number) => prev + 1,
      0,
    )
    .option('-q, --quiet', 'no status line, warnings and errors only')
    .addHelpText('after', HELP)
    .action(async (opts: RelaydOptions) => {
      if (opts.groupOutputByHost === true && opts.groupOutputBySession === true) {
        throw new UsageError('--group-output-by-host and --group-output-by-session exclude each other');
      }
      const interval = Number(opts.statusInterval);
      if (!Number.isFinite(interval) || interval < 0)
        throw new UsageError(`bad --status-interval "${opts.statusInterval}"`);
      const limits = parseLimits(opts);
      const tty = process.stderr.isTTY === true;
      let statusShown = false;
      const clearStatus = (): void => {
        if (tty && statusShown) process.stderr.write('\r\x1b[K');
        statusShown = false;
      };
      const minLevel: Record<LogLevel, number> = { error: 0, warn: 0, info: 1, debug: 2 };
      const verbosity = opts.quiet === true ? 0 : 1 + opts.verbose;
      const log = (level: LogLevel, msg: string): void => {
        if (minLevel[level] > verbosity) return;
        clearStatus();
        process.stderr.write(`relayd: ${level === 'info' || level === 'debug' ? '' : `${level}: `}${msg}\n`);
      };
      const daemon = await RelayDaemon.start({
        outputDir: opts.output ?? defaultOutput(),
        control: listenSpec(opts.controlPort, '0.0.0.0', 'control port'),
        data: listenSpec(opts.dataPort, '0.0.0.0', 'data port'),
        live: listenSpec(opts.livePort, '127.0.0.1', 'live port'),
        groupBy: opts.groupOutputBySession === true ? 'session' : 'host',
        log,
        traceProtocol: opts.verbose >= 2,
        limits,
      });
      log(
        'info',
        `listening: control ${daemon.ports.control}, data ${daemon.ports.data}, live ${daemon.ports.live}; ` +
          `writing to ${opts.output ?? defaultOutput()}`,
      );
      const l = daemon.limits;
      log(
        'info',
        `limits: command timeout ${l.commandTimeoutMs / 1000} s, idle timeout ${l.idleTimeoutMs / 1000} s, ` +
          `${l.maxConnections} connections per port, memory budget ${human(l.memoryBudget)}`,
      );

      let lastBytes = 0;
      let lastTime = Date.now();
      const showStatus = (): void => {
        const s = daemon.status();
        const bytes = s.counters.bytesReceived + s.counters.metadataBytesReceived;
        const now = Date.now();
        const rate = ((bytes - lastBytes) * 1000) / Math.max(1, now - lastTime);
        lastBytes = bytes;
        lastTime = now;
        if (tty) {
          process.stderr.write(`\r\x1b[K${statusLine(s, rate)}`);
          statusShown = true;
        } else {
          process.stderr.write(`${statusLine(s, rate)}\n`);
        }
      };
      const period = tty ? 1000 : interval * 1000;
      const timer = opts.quiet !== true && period > 0 ? setInterval(showStatus, period) : null;

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: NodeJS.Signals): void => {
          if (stopping) {
            process.stderr.write(`\nrelayd: ${sig} again: exiting now\n`);
            process.exit(130);
          }
          stopping = true;
          if (timer !== null) clearInterval(timer);
          clearStatus();
          log('info', `${sig}: closing`);
          daemon.close().then(resolve, (err: unknown) => {
            log('error', `while closing: ${err instanceof Error ? err.message : String(err)}`);
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const s = daemon.status();
      log(
        'info',
        `closed; ${s.counters.sessionsCreated} sessions, ${s.counters.packetsReceived} packets, ` +
          `${human(s.counters.bytesReceived + s.counters.metadataBytesReceived)} received`,
      );
    });
}
