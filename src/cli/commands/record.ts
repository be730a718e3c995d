/**
 * `nstrace record`: thin CLI over `record/`: parse options, show a progress line on a TTY,
 * stop on Ctrl-C / SIGTERM / --duration, print a summary.
 */
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InterruptedError, RelayError, UsageError } from '../../util/errors.js';
import type { RelayClient, RelayTraceSink, RelayUrl } from '../../relay/index.js';
import type { RecordSummary } from '../../record/options.js';
import { chooseBackend, record, type AnySummary } from '../../record/backend.js';
import { CONTEXT_FIELDS, DEFAULT_CONTEXTS, type ContextName } from '../../record/contexts.js';
import { DEFAULT_EVENTS } from '../../record/events.js';
import { VERSION } from '../version.js';

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new UsageError(`bad duration '${s}' (examples: 500ms, 10s, 2m)`);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(v * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60000 : 3600000));
}

export function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)i?[bB]?$/.exec(s.trim());
  if (!m) throw new UsageError(`bad size '${s}' (examples: 4M, 512k, 65536)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mult;
}

/** Context names: the recorder's, and `cgroup_id` (bpf backend). */
const CONTEXT_NAMES = [...Object.keys(CONTEXT_FIELDS), 'cgroup_id'];

function parseContexts(s: string): ContextName[] {
  if (s === 'all') return CONTEXT_NAMES as ContextName[];
  const out: ContextName[] = [];
  for (const tok of s
    .split(',')
    .map((x) => x.trim().replace(/^\$ctx\./, ''))
    .filter(Boolean)) {
    if (!CONTEXT_NAMES.includes(tok)) {
      throw new UsageError(`unknown context '${tok}' (known: ${CONTEXT_NAMES.join(', ')}, or all)`);
    }
    out.push(tok as ContextName);
  }
  return out;
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function defaultOutDir(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `nstrace-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A recording streamed to a relay daemon (`--url`). */
interface RelayTarget {
  client: RelayClient;
  sink: RelayTraceSink;
  url: RelayUrl;
  /** `net://HOST:PORT` as shown to the user. */
  shown: string;
  sessionName: string;
}

/** The relay URL as the user would type it back (control port; data port when not the default). */
function showUrl(u: RelayUrl, defaultDataPort: number): string {
  const host = u.family === 6 ? `[${u.host}]` : u.host;
  const ports = u.dataPort === defaultDataPort ? `${u.controlPort}` : `${u.controlPort}:${u.dataPort}`;
  return `${u.family === 6 ? 'net6' : 'net'}://${host}:${ports}${u.basePath === '' ? '' : `/${u.basePath}`}`;
}

/**
 * lttng-relayd refuses session names that are not one path component; say so before connecting.
 */
function checkSessionName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.length > 255) {
    throw new UsageError(`bad session name '${name}' (one path component, at most 255 bytes)`);
  }
}

/**
 * Connects to the relay and creates the session (before tracing starts: an unreachable relay
 * fails here, with tracefs untouched).
 */
async function connectRelay(url: string, sessionNameOpt: string | undefined): Promise<RelayTarget> {
  if (/^tcp6?:\/\//.test(url)) {
    throw new UsageError(
      `--url takes net://HOST[:CONTROL_PORT[:DATA_PORT]] or net6://; tcp:// is only for lttng's ` +
        `separate --ctrl-url/--data-url (use net://HOST:CONTROL_PORT:DATA_PORT)`,
    );
  }
  const relay = await import('../../relay/index.js');
  const u = relay.parseRelayUrl(url);
  if (process.getuid && process.getuid() !== 0) {
    throw new UsageError('nstrace record needs root (tracefs and /proc of every process)');
  }
  const created = new Date();
  if (sessionNameOpt !== undefined) checkSessionName(sessionNameOpt);
  const sessionName = sessionNameOpt ?? defaultOutDir(created);
  const client = await relay.RelayClient.connect(u, {
    hostname: os.hostname(),
    sessionName,
    // The default name already ends with the date: the relay must not add it again (as lttng
    // does for its `auto-YYYYmmdd-HHMMSS` names).
    sessionNameContainsCreationTime: sessionNameOpt === undefined,
    creationTime: Math.floor(created.getTime() / 1000),
  });
  const sink = new relay.RelayTraceSink(client, 'kernel');
  return { client, sink, url: u, shown: showUrl(u, relay.DEFAULT_DATA_PORT), sessionName };
}

/** How the summary names the reasons a syscall string is unknown (src/record/strings.ts). */
const STRING_REASONS: Record<string, string> = {
  notInSyscall: 'no longer in the syscall',
  running: 'running when checked',
  gone: 'task gone',
  argsDiffer: 'in a later call',
  changed: 'changed while read',
  left: 'left the syscall before the read',
  readFailed: 'unreadable',
  nullPointer: 'NULL pointer',
  lost: 'watcher lost events',
  late: 'watcher too late',
  noWatcher: 'no watcher',
  noResult: 'no watcher result',
  kernelTruncated: 'cut by the kernel',
  kernelAmbiguous: "kernel copy with a '.' not confirmed",
  kernelFault: 'kernel could not copy it',
  exitArgument: 'exit-event argument',
};

export function printSummary(
  s: RecordSummary | AnySummary,
  out: NodeJS.WritableStream,
  relay?: RelayTarget,
): void {
  const secs = s.durationMs / 1000;
  out.write(
    `Recorded ${s.events} events in ${secs.toFixed(1)} s (${Math.round(s.events / Math.max(secs, 0.001))} events/s), ` +
      `${human(s.bytes)} in ${s.packets} packets, ${s.eventClasses} event classes\n`,
  );
  if (relay === undefined) out.write(`Trace: ${s.traceDir}\n`);
  else {
    out.write(
      `Trace: ${relay.shown} session ${relay.sessionName} ` +
        `(relay writes it under ${relay.client.outputPath}/kernel), ${human(relay.sink.bytesSent)} sent\n`,
    );
  }
  const behind =
    relay !== undefined && relay.sink.waits > 0
      ? `; the relay was behind ${relay.sink.waits} times, ${(relay.sink.waitedMs / 1000).toFixed(1)} s in all`
      : '';
  // The bpf backend's count includes the events the kernel skipped (told on the Backend line).
  const skipped = 'bpf' in s && s.bpf !== undefined ? s.bpf.recursionMisses : 0;
  const overflow = s.lost - skipped;
  const why: string[] = [];
  if (overflow > 0)
    why.push(`${overflow} ring buffer overflow${behind}: use a larger --buffer-size or fewer events`);
  else if (behind !== '') why.push(behind.slice(2));
  if (skipped > 0) why.push(`${skipped} skipped by the kernel, see below`);
  out.write(`Lost events: ${s.lost}` + (why.length > 0 ? `  (${why.join('; ')})` : '') + '\n');
  const us = s.userStrings;
  if (us.known + us.unknown > 0) {
    const reasons = Object.entries(us.reasons)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([k, v]) => `${v} ${STRING_REASONS[k] ?? k}`)
      .join(', ');
    out.write(
      `Syscall strings: ${us.known} known${us.fromKernel > 0 ? ` (${us.fromKernel} copied by the kernel)` : ''}, ` +
        `${us.unknown} unknown, written ""${reasons !== '' ? ` (${reasons})` : ''}\n`,
    );
  }
  const ctxUnknown = s.patches.tooLate + s.patches.unresolved;
  if (ctxUnknown > 0 || s.threads.lazyMisses > 0) {
    out.write(
      `Unknown context values (0 or ""): in ${ctxUnknown} events` +
        (s.threads.lazyMisses > 0 ? `; ${s.threads.lazyMisses} tasks gone before they could be read` : '') +
        '\n',
    );
  }
  out.write(
    `Statedump: ${s.statedumpEvents} events, ${s.containers} containers` +
      (s.containerStarts + s.containerStops > 0
        ? ` (${s.containerStarts} started, ${s.containerStops} stopped during the recording)`
        : '') +
      '; ' +
      `recorder CPU: ${((s.cpuUserMs + s.cpuSystemMs) / 1000).toFixed(2)} s` +
      (s.events > 0
        ? ` (${((s.cpuUserMs + s.cpuSystemMs) / 1000 / (s.events / 1e6)).toFixed(2)} s per million events)`
        : '') +
      '\n',
  );
  const holes = 'bpf' in s && s.bpf !== undefined ? s.bpf.inferSkipped : 0;
  const prioGuess = s.inferredPrioUnobserved;
  if (s.inferredSwitches + holes > 0) {
    out.write(
      `Scheduling: ${s.inferredSwitches} switches the kernel did not report, written from the ` +
        'events that followed them (sched_switch with nstrace_inferred = 1)' +
        (holes > 0 ? `; ${holes} left out (the previous task's context was never seen)` : '') +
        (prioGuess > 0
          ? `; ${prioGuess} of them with a priority the kernel never showed (read from /proc then)`
          : '') +
        '\n',
    );
  }
  const b = 'bpf' in s ? s.bpf : undefined;
  if (b !== undefined) {
    out.write(
      `Backend: bpf (${b.programs} programs, ${b.attachments} tracepoints); unknown values: ` +
        `${b.stringsUnknown} syscall strings read neither at entry nor at exit (written ""; ` +
        `${b.stringsAtExit} read at exit), ` +
        `${b.contextsUnknown - b.contextsUnresolved} events with pid-ns ids too deep to resolve` +
        (b.contextsUnresolved > 0
          ? `; ${b.contextsUnresolved} syscall events whose context the kernel left out with no ` +
            'reference to put back (written unknown: a recorder bug, please report it)'
          : '') +
        (b.outsideRange > 0
          ? `; ${b.outsideRange} events after the end left out (syscall exits run on 50 ms to bring the ` +
            'strings of the syscalls in flight)'
          : '') +
        (b.late > 0
          ? `; ${b.late} events timestamped before an event of their CPU already written, ` +
            'written at that later time (a program was interrupted between reading the clock and ' +
            `writing, longer than the reorder window: ${b.reordered} others were put back in order)`
          : '') +
        (b.recursionMisses > 0
          ? `; ${b.recursionMisses} events skipped by the kernel (another BPF program ran on the CPU: ` +
            Object.entries(b.recursionMissesBy)
              .map(([what, n]) => `${what} ${n}`)
              .join('; ') +
            ')'
          : '') +
        '\n',
    );
  } else if ('backend' in s) out.write(`Backend: ${s.backend}\n`);
}

const collectList = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

export function register(program: Command): void {
  program
    .command('record')
    .summary('record a kernel trace (LTTng format, namespace contexts) from tracefs')
    .description(
      'Record a kernel trace as lttng-modules would have written it, without kernel modules: ' +
        'the kernel tracepoints (sched, syscalls, kmem, block, irq, net) are captured and ' +
        'converted to a CTF kernel trace that babeltrace2, Trace Compass, lttng-analyses and ' +
        'nstrace read. Every event carries the namespaces (pid_ns, user_ns, net_ns, ...) and the ' +
        'pids as seen inside its container; a statedump of every thread, namespace, cgroup, fd, ' +
        'disk, interface and container opens the trace.\n\n' +
        'Two backends. bpf (the default where the kernel has BTF): BPF programs on the ' +
        'tracepoints read every context from the current task when the event happens and copy ' +
        'syscall strings at syscall entry, adds the cgroup_id context, and can select containers ' +
        'in the kernel (--container, --pid-ns, --cgroup, ...). tracefs: private tracefs instances ' +
        '(instances/nstrace-<pid>), contexts kept by a thread table, syscall strings read from ' +
        '/proc when still provably right, else empty.\n\n' +
        'Runs as root. Nothing global is changed; everything is released on exit (Ctrl-C, ' +
        'SIGTERM, --duration, or an error; BPF objects are never pinned, so even a killed ' +
        'recorder leaves nothing attached). The recorder does not trace itself.\n\n' +
        'With --url the trace streams to a relay daemon (nstrace relayd or lttng-relayd, ' +
        'LTTng 2.11+) instead of a directory; the relay writes it as lttng-relayd does.\n\n' +
        'Examples:\n' +
        '  nstrace record -o /tmp/t --duration 10s            default events + all syscalls\n' +
        '  nstrace record -e sched_switch,sched_process_* -o t   scheduler only\n' +
        '  nstrace record -e sched_*,syscall_entry_openat     + one syscall (entry and exit)\n' +
        '  nstrace record -e timer:hrtimer_* --syscalls        any ftrace event, by system:name\n' +
        '  nstrace record --context pid_ns,vtid,procname      fewer context fields\n' +
        '  nstrace record --container web -d 30s              only container web (name, id or pid_ns)\n' +
        '  nstrace record --container-type docker --host      docker containers and the host\n' +
        '  nstrace record --cgroup /system.slice/x.service    a cgroup and its descendants\n' +
        '  nstrace record --backend tracefs                   the tracefs backend\n' +
        '  babeltrace2 /tmp/t                                 read it back\n' +
        '  nstrace record --url net://relay -d 1m             stream to a relay daemon\n' +
        '  nstrace record --url net://10.0.0.5:6000:6001 --session-name web1',
    )
    .option('-o, --output <dir>', 'trace directory (the kernel trace goes to DIR/kernel)')
    .option(
      '--url <url>',
      'stream to a relay daemon instead (nstrace relayd or lttng-relayd): ' +
        'net://HOST[:CONTROL_PORT[:DATA_PORT]][/PATH] or net6://[ADDR]...; ports default to 5342 and 5343',
    )
    .option(
      '--session-name <name>',
      'relay session name (with --url; default nstrace-YYYYmmdd-HHMMSS); the relay writes ' +
        'HOST/NAME-YYYYmmdd-HHMMSS/kernel',
    )
    .option('-d, --duration <time>', 'stop after this long (500ms, 10s, 2m); default: until Ctrl-C')
    .option(
      '-e, --events <list>',
      `comma-separated LTTng event names or globs (sched_*), syscall_entry_<name>, or system:event; default: ${DEFAULT_EVENTS.slice(0, 4).join(',')},... + all syscalls`,
    )
    .option('--syscalls', 'also record every syscall entry/exit (default when -e is not given)')
    .option('--no-syscalls', 'do not record syscalls with the default event set')
    .option(
      '--context <list>',
      `context fields on every event: ${Object.keys(CONTEXT_FIELDS).join(',')} or all (default: ${DEFAULT_CONTEXTS.join(',')})`,
    )
    .addOption(
      new Option(
        '--backend <name>',
        'capture backend: bpf, tracefs, or auto (bpf where the kernel allows it)',
      )
        .choices(['auto', 'bpf', 'tracefs'])
        .default('auto'),
    )
    .option(
      '--container <glob>',
      'record only containers whose name, id (or id prefix) or pid namespace inode matches (bpf); repeatable',
      collectList,
    )
    .option(
      '--container-type <type>',
      'record only containers of this type (docker, podman, lxc, nspawn, unshare, ...; bpf); repeatable',
      collectList,
    )
    .option('--host', 'record the host (initial pid namespace; bpf); combines with the others')
    .option('--pid-ns <inode>', 'record only tasks in this pid namespace (bpf); repeatable', collectList)
    .option(
      '--cgroup <path>',
      'record only tasks in this cgroup (v2 path, as in /proc/PID/cgroup) or below it (bpf); repeatable',
      collectList,
    )
    .option('--buffer-size <size>', 'ring buffer per CPU (e.g. 16M)', '16M')
    .addOption(new Option('--packet-size <size>', 'CTF packet size').default('256k'))
    .option('--no-statedump', 'skip the /proc statedump at the start')
    .option('--no-containers', 'no container statedump and start/stop events (skips runtime API calls)')
    .option('--no-progress', 'no progress line even on a TTY')
    .option('--summary-json <file>', 'also write the summary as JSON to FILE (for scripts)')
    .action(async (opts: Record<string, unknown>) => {
      const url = opts.url as string | undefined;
      if (url !== undefined && opts.output !== undefined) {
        throw new UsageError(
          '--url and -o/--output exclude each other: the trace goes to a relay or to a directory',
        );
      }
      if (url === undefined && opts.sessionName !== undefined) {
        throw new UsageError('--session-name needs --url (it names the session on the relay)');
      }
      const outDir = (opts.output as string | undefined) ?? defaultOutDir();
      const durationMs = opts.duration !== undefined ? parseDuration(String(opts.duration)) : undefined;
      const events =
        opts.events !== undefined
          ? String(opts.events)
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
      const contexts = opts.context !== undefined ? parseContexts(String(opts.context)) : undefined;
      const bufferSizeKb = Math.max(4, Math.round(parseSize(String(opts.bufferSize)) / 1024));
      const packetSize = parseSize(String(opts.packetSize));
      if (packetSize < 4096 || packetSize % 8 !== 0)
        throw new UsageError('--packet-size must be at least 4k');
      const syscalls = events === undefined ? opts.syscalls !== false : opts.syscalls === true;
      const list = (k: string): string[] | undefined => opts[k] as string[] | undefined;
      const select = {
        containers: list('container'),
        containerTypes: list('containerType'),
        host: opts.host === true,
        pidNs: list('pidNs')?.map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--pid-ns ${x}: not an inode number`);
          return n;
        }),
        cgroups: list('cgroup'),
      };
      const backendName = String(opts.backend ?? 'auto') as 'auto' | 'bpf' | 'tracefs';
      const choice = chooseBackend(backendName);
      // `--context all` means every context the chosen backend has (tracefs: no cgroup_id).
      if (choice.backend === 'tracefs' && String(opts.context) === 'all' && contexts)
        contexts.splice(contexts.indexOf('cgroup_id' as ContextName), 1);
      // Said once the recording starts (a usage error stays one line).
      const announce = (): void => {
        if (backendName !== 'auto') return;
        if (tty) process.stderr.write('\r\x1b[K');
        process.stderr.write(
          choice.backend === 'bpf'
            ? 'nstrace: recording with the bpf backend (--backend tracefs for the other)\n'
            : `nstrace: recording with the tracefs backend (bpf not possible: ${choice.reason})\n`,
        );
      };

      const ac = new AbortController();
      let relay: RelayTarget | undefined;
      /** Set once the recording is over and queued packets are going to the relay. */
      let flushing = false;
      let gaveUp = false;
      const onSignal = (): void => {
        // A signal while the last packets go to the relay gives up on them (a stuck relay
        // must not keep us forever); the first one only stops the recording.
        if (flushing && relay !== undefined) {
          gaveUp = true;
          relay.client.destroy();
        }
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', onSignal);
      const tty = process.stderr.isTTY && opts.progress !== false;
      let lastLost = 0;
      try {
        if (url !== undefined) relay = await connectRelay(url, opts.sessionName as string | undefined);
        const r = relay;
        let summary: AnySummary;
        try {
          summary = await record(
            {
              backend: choice.backend,
              select,
              outDir: r ? r.client.outputPath : path.resolve(outDir),
              ...(r ? { sink: r.sink, sinkReady: () => r.sink.ready(), traceName: r.sessionName } : {}),
              durationMs,
              events,
              syscalls,
              contexts,
              bufferSizeKb,
              packetSize,
              statedump: opts.statedump !== false,
              containers: opts.containers !== false,
              signal: ac.signal,
              recorderVersion: VERSION,
              onStarted: announce,
              progressIntervalMs: 500,
              onWarning: (m) => {
                if (tty) process.stderr.write('\r\x1b[K');
                const behind = r !== undefined && r.sink.pendingBytes > r.sink.maxPendingBytes / 2;
                process.stderr.write(`nstrace: warning: ${m}${behind ? ' (the relay is behind)' : ''}\n`);
              },
              onProgress: (p) => {
                if (p.lost > lastLost) lastLost = p.lost;
                if (!tty) return;
                const bytes = r
                  ? `${human(r.sink.bytesSent)} sent, ${human(r.sink.pendingBytes)} queued`
                  : human(p.bytes);
                process.stderr.write(
                  `\r\x1b[K${(p.elapsedMs / 1000).toFixed(1)} s  ${p.events} events  ` +
                    `${Math.round(p.eventsPerSec)} ev/s  ${bytes}  lost ${p.lost}`,
                );
              },
            },
            choice,
          );
          if (r) {
            // The writer has queued everything: wait until the relay has every packet and
            // index (flush, data-pending handshake), then close the streams and connections.
            flushing = true;
            if (tty && r.sink.pendingBytes > 0)
              process.stderr.write(`\r\x1b[Ksending the last ${human(r.sink.pendingBytes)} to the relay`);
            await r.sink.finished();
            await r.client.close();
            summary.bytes = r.sink.bytesSent;
            summary.traceDir = `${r.client.outputPath}/kernel`;
          }
        } catch (err) {
          if (r === undefined) throw err;
          if (tty) process.stderr.write('\r\x1b[K');
          const lost = r.sink.failure ?? (err instanceof RelayError ? err : undefined);
          if (lost === undefined) {
            // Not the relay's fault (e.g. an unknown event): end the session cleanly.
            flushing = true;
            await r.sink
              .finished()
              .then(() => r.client.close())
              .catch(() => r.client.destroy());
            throw err;
          }
          r.client.destroy();
          if (gaveUp) {
            throw new InterruptedError(
              `interrupted while sending the last ${human(r.sink.pendingBytes)} to the relay at ${r.shown} ` +
                '(the relay keeps what it received)',
            );
          }
          throw new RelayError(
            `streaming to the relay at ${r.shown} failed: ${(lost as Error).message} ` +
              `(recording stopped, tracefs restored; the relay keeps what it received)`,
            { cause: err },
          );
        }
        if (tty) process.stderr.write('\r\x1b[K');
        printSummary(summary, process.stdout, r);
        if (opts.summaryJson !== undefined) {
          const json = r
            ? {
                ...summary,
                relay: {
                  url: r.shown,
                  sessionName: r.sessionName,
                  hostname: os.hostname(),
                  outputPath: r.client.outputPath,
                  bytesSent: r.sink.bytesSent,
                  packetsSent: r.sink.packetsSent,
                  maxQueuedBytes: r.sink.maxPendingSeen,
                  queueLimitBytes: r.sink.maxPendingBytes,
                  waits: r.sink.waits,
                  waitedMs: r.sink.waitedMs,
                },
              }
            : summary;
          writeFileSync(String(opts.summaryJson), JSON.stringify(json, null, 2) + '\n');
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onSignal);
      }
    });
}
