/**
 * `nstrace record`: thin CLI over `record/`: parse options, show a progress line on a TTY,
 * stop on Ctrl-C / SIGTERM / --duration, print a summary.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../../util/errors.js';
import { record, type RecordSummary } from '../../record/recorder.js';
import { CONTEXT_FIELDS, DEFAULT_CONTEXTS, type ContextName } from '../../record/threads.js';
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

function parseContexts(s: string): ContextName[] {
  if (s === 'all') return Object.keys(CONTEXT_FIELDS) as ContextName[];
  const out: ContextName[] = [];
  for (const tok of s
    .split(',')
    .map((x) => x.trim().replace(/^\$ctx\./, ''))
    .filter(Boolean)) {
    if (!(tok in CONTEXT_FIELDS)) {
      throw new UsageError(
        `unknown context '${tok}' (known: ${Object.keys(CONTEXT_FIELDS).join(', ')}, or all)`,
      );
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

function defaultOutDir(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `nstrace-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function printSummary(s: RecordSummary, out: NodeJS.WritableStream): void {
  const secs = s.durationMs / 1000;
  out.write(
    `Recorded ${s.events} events in ${secs.toFixed(1)} s (${Math.round(s.events / Math.max(secs, 0.001))} events/s), ` +
      `${human(s.bytes)} in ${s.packets} packets, ${s.eventClasses} event classes\n`,
  );
  out.write(`Trace: ${s.traceDir}\n`);
  out.write(
    `Lost events: ${s.lost}${s.lost > 0 ? '  (ring buffer overflow: use a larger --buffer-size or fewer events)' : ''}\n`,
  );
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
}

export function register(program: Command): void {
  program
    .command('record')
    .summary('record a kernel trace (LTTng format, namespace contexts) from tracefs')
    .description(
      'Record a kernel trace as lttng-modules would have written it, without kernel modules: ' +
        'the kernel tracepoints (sched, syscalls, kmem, block, irq, net) are read from ' +
        "tracefs' raw per-CPU ring buffers and converted to a CTF kernel trace that " +
        'babeltrace2, Trace Compass, lttng-analyses and nstrace read. Every event carries the ' +
        'namespaces (pid_ns, user_ns, net_ns, ...) and the pids as seen inside its container; ' +
        'a statedump of every thread, namespace, fd, disk, interface and container opens the trace.\n\n' +
        'Runs as root. Uses a private tracefs instance (instances/nstrace-<pid>), so the global ' +
        "tracing buffer and other users' settings are untouched; everything is removed on exit " +
        '(Ctrl-C, SIGTERM, --duration, or an error). The recorder does not trace itself.\n\n' +
        'Examples:\n' +
        '  nstrace record -o /tmp/t --duration 10s            default events + all syscalls\n' +
        '  nstrace record -e sched_switch,sched_process_* -o t   scheduler only\n' +
        '  nstrace record -e sched_*,syscall_entry_openat     + one syscall (entry and exit)\n' +
        '  nstrace record -e timer:hrtimer_* --syscalls        any ftrace event, by system:name\n' +
        '  nstrace record --context pid_ns,vtid,procname      fewer context fields\n' +
        '  babeltrace2 /tmp/t                                 read it back',
    )
    .option('-o, --output <dir>', 'trace directory (the kernel trace goes to DIR/kernel)')
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
    .option('--buffer-size <size>', 'ring buffer per CPU (e.g. 16M)', '16M')
    .addOption(new Option('--packet-size <size>', 'CTF packet size').default('256k'))
    .option('--no-statedump', 'skip the /proc statedump at the start')
    .option('--no-containers', 'no container statedump and start/stop events (skips runtime API calls)')
    .option('--no-progress', 'no progress line even on a TTY')
    .option('--summary-json <file>', 'also write the summary as JSON to FILE (for scripts)')
    .action(async (opts: Record<string, unknown>) => {
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

      const ac = new AbortController();
      const onSignal = (): void => ac.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', onSignal);
      const tty = process.stderr.isTTY && opts.progress !== false;
      let lastLost = 0;
      try {
        const summary = await record({
          outDir: path.resolve(outDir),
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
          progressIntervalMs: 500,
          onWarning: (m) => {
            if (tty) process.stderr.write('\r\x1b[K');
            process.stderr.write(`nstrace: warning: ${m}\n`);
          },
          onProgress: (p) => {
            if (p.lost > lastLost) lastLost = p.lost;
            if (!tty) return;
            process.stderr.write(
              `\r\x1b[K${(p.elapsedMs / 1000).toFixed(1)} s  ${p.events} events  ` +
                `${Math.round(p.eventsPerSec)} ev/s  ${human(p.bytes)}  lost ${p.lost}`,
            );
          },
        });
        if (tty) process.stderr.write('\r\x1b[K');
        printSummary(summary, process.stdout);
        if (opts.summaryJson !== undefined) {
          writeFileSync(String(opts.summaryJson), JSON.stringify(summary, null, 2) + '\n');
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onSignal);
      }
    });
}
