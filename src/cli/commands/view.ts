/**
 * `nstrace view`: analyse traces and serve a web page with their timelines (containers over
 * time, CPU lanes, threads, the events table), or write it as one static HTML file.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { buildViewData } from '../../view/build.js';
import { staticHtml } from '../../view/export.js';
import type { PageAssets } from '../../view/page-html.js';
import { startServer } from '../../view/server.js';
import { NstraceError, UsageError } from '../../util/errors.js';
import { packageRoot } from '../paths.js';
import { VERSION } from '../version.js';
import { untilInterrupted, withProgress } from './progress.js';
import { SAMPLE_TRACE } from './top.js';

interface ViewOptions {
  port?: string;
  bind: string;
  open: boolean;
  html?: string;
  progress: boolean;
}

/** The port used when none is given; taken when free, else any free port. */
export const DEFAULT_PORT = 7450;

const HELP_AFTER = `
Analyses the traces (without TRACE: the bundled sample, a real recording of containers) and
serves one page on a local web server:
  Containers   CPU, page allocations and system calls per container over time (stacked, the
               host included); the container list with lifetimes and restarts
  CPUs         one lane per CPU, each slice coloured by the container of the thread running
  Threads      container > process > thread, with running / runnable / blocked-in-syscall states
  Events       the lines of \`nstrace print\` for the visible time range, with --filter and the
               container selectors
Every view shows the same time window: zoom with the mouse wheel or W/S, pan by dragging or
with A/D, 0 resets. Keys 1-4 switch views; ? lists every key.

The server listens on 127.0.0.1 (this machine only) unless --bind says otherwise. It prints the
URL and opens it in a browser when there is a display; Ctrl-C stops it.

Examples:
  nstrace view                                    the bundled sample trace
  nstrace view ~/lttng-traces/my-session          a session's traces, merged by time
  nstrace view --port 0 --no-open TRACE           any free port, no browser (then open the URL)
  nstrace view --bind 0.0.0.0 --port 8080 TRACE   reachable from other machines (no authentication!)
  nstrace view --html report.html TRACE           one self-contained file for a ticket
`;

export function register(program: Command): void {
  program
    .command('view')
    .description(
      'Web timelines of a trace: containers over time, CPU lanes, threads, events (a local server, or --html FILE)',
    )
    .argument('[trace...]', 'trace directories (default: the bundled sample trace)')
    .option('--port <n>', `port to listen on (0: any free port; default ${DEFAULT_PORT}, or any if taken)`)
    .option('--bind <addr>', 'address to listen on', '127.0.0.1')
    .option('--no-open', 'do not open a browser')
    .option('--html <file>', 'write the page and its data to one self-contained HTML file and exit')
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], opts: ViewOptions) => {
      await runView(paths, opts);
    });
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`--port expects a port number (0-65535), got '${text}'`);
  }
  return Number(text);
}

/** The page bundle built by `npm run build` (scripts/bundle.mjs) into dist/view/. */
function loadAssets(): PageAssets {
  const dir = join(packageRoot(), 'dist', 'view');
  const js = join(dir, 'page.js');
  const css = join(dir, 'page.css');
  if (!existsSync(js) || !existsSync(css)) {
    throw new NstraceError(`the view's page bundle is missing (${dir}): run \`npm run build\``);
  }
  return { js: readFileSync(js, 'utf8'), css: readFileSync(css, 'utf8') };
}

async function runView(paths: string[], opts: ViewOptions): Promise<void> {
  const port = parsePort(opts.port);
  const assets = loadAssets();
  if (paths.length === 0) {
    if (!existsSync(SAMPLE_TRACE)) {
      throw new NstraceError(`no trace given and the bundled sample trace is missing (${SAMPLE_TRACE})`);
    }
    paths = [SAMPLE_TRACE];
    process.stderr.write(
      `nstrace: no trace given: showing the bundled sample trace ${SAMPLE_TRACE}, a real 2-second ` +
        'recording of a build machine running Docker, Podman, LXC and unshare containers\n',
    );
  }
  const data = await withProgress(opts.progress, (onProgress, signal) =>
    buildViewData(paths, { onProgress, signal, version: VERSION }),
  );
  for (const w of data.summary.warnings) process.stderr.write(`nstrace: warning: ${w}\n`);

  if (opts.html !== undefined) {
    const html = await staticHtml(data, assets);
    try {
      writeFileSync(opts.html, html);
    } catch (e) {
      throw new UsageError(`cannot write ${opts.html}: ${(e as Error).message}`);
    }
    process.stdout.write(`wrote ${opts.html} (${(html.length / 1048576).toFixed(1)} MiB)\n`);
    return;
  }

  const errors = (err: unknown): void => {
    process.stderr.write(
      `nstrace: internal error in a request: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
  };
  let server;
  try {
    server = await startServer(data, {
      host: opts.bind,
      port: port ?? DEFAULT_PORT,
      assets,
      onError: errors,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (port === undefined && code === 'EADDRINUSE') {
      server = await startServer(data, { host: opts.bind, port: 0, assets, onError: errors });
    } else {
      throw new NstraceError(
        `cannot listen on ${opts.bind}:${port ?? DEFAULT_PORT}: ${(e as Error).message}`,
      );
    }
  }
  process.stdout.write(`nstrace view: ${server.url}  (Ctrl-C to stop)\n`);
  if (opts.open) {
    const why = openBrowser(server.url);
    if (why !== undefined) process.stderr.write(`nstrace: ${why}: open ${server.url} in a browser\n`);
  }
  await untilInterrupted();
  await server.close();
  process.stderr.write('nstrace: view server stopped\n');
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Opens `url` with the desktop's browser; returns why not when it cannot (never throws). */
function openBrowser(url: string): string | undefined {
  let cmd: string;
  if (process.platform === 'darwin') cmd = 'open';
  else {
    if (process.env.DISPLAY === undefined && process.env.WAYLAND_DISPLAY === undefined) {
      return 'no display to open a browser on';
    }
    cmd = 'xdg-open';
  }
  if (!onPath(cmd)) return `${cmd} is not installed`;
  try {
    const child = spawn(cmd, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    return `${cmd} failed`;
  }
  return undefined;
}
