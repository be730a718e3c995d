#!/usr/bin/env node
/**
 * The `nstrace` command. Thin: parse arguments, call the library, print. This is the only place
 * that prints or exits; library errors (`NstraceError`) become one line on stderr.
 */
import { Command, CommanderError } from 'commander';
import { NstraceError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';
import { VERSION } from './version.js';

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('nstrace')
    .description(
      'Container-aware tracing for Linux: read and write CTF traces, see per container where the ' +
        'CPU, memory, syscalls and latency go, and work beside LTTng, babeltrace2 and Trace Compass.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  await registerCommands(program, argv);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or help/version, with code 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof NstraceError) {
    process.stderr.write(`nstrace: error: ${err.message}\n`);
    return err.exitCode;
  }
  if (isEpipe(err)) return 0;
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`nstrace: internal error: ${msg}\n`);
  return 70;
}

function isEpipe(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EPIPE';
}

// Output piped into `head` must end quietly.
process.stdout.on('error', (err) => {
  if (isEpipe(err)) process.exit(0);
});

/**
 * Before the event loop ends, a short idle moment. Node 20 can deadlock at shutdown when a V8
 * background compile job still in flight needs the main thread for a garbage collection while
 * the main thread waits for that job (nodejs/node#54918: seen here as `nstrace print` hanging
 * at 0% CPU after its output, a few times in thousands of runs on a loaded machine). Idle, the
 * main thread serves such requests and the jobs of the last hot functions finish first.
 */
const SETTLE_MS = 20;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

main(process.argv).then(
  async (code) => {
    process.exitCode = code;
    await settle();
  },
  async (err: unknown) => {
    process.exitCode = reportError(err);
    await settle();
  },
);
