/**
 * `nstrace containers`: every container on this host, across runtimes, like `docker ps`
 * (runtime, id, name, image, state, init pid, namespace inodes, cgroup). Given trace paths
 * instead, the containers seen in those traces (that mode lives with the model; see the hook below).
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { containerToJson, discover, formatContainersTable, watchContainers } from '../../containers/index.js';
import type { ContainerInfo, ContainerRow, DiscoverOptions } from '../../containers/index.js';
import { UsageError } from '../../util/errors.js';
import { untilInterrupted, withProgress } from './progress.js';

/**
 * Trace-path mode. Owned by the model/analyses helper: point this at their
 * `listTraceContainers(paths)` (rows shaped like `ContainerRow`; a `toJson` for `--json`).
 * Until then a path argument is a usage error.
 */
export interface TraceContainerLister {
  list(paths: string[], o?: ReadOptions): Promise<ContainerRow[]>;
  toJson?(row: ContainerRow): unknown;
  /** The whole output (per machine, with trace coverage), when the lister has its own layout. */
  render?(paths: string[], o: { json: boolean } & ReadOptions): Promise<string>;
}

/** How the trace-path mode reads: its progress, and Ctrl-C aborting it (`withProgress`). */
export interface ReadOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}
export const traceContainers: { lister: TraceContainerLister | null } = { lister: null };

interface Options {
  json?: boolean;
  all?: boolean;
  api: boolean;
  trunc: boolean;
  timeout: number;
  watch?: boolean;
  dockerSocket?: string[];
  podmanSocket?: string[];
  lxcPath?: string[];
  progress: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer (ms)');
  return n;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function warn(msg: string): void {
  process.stderr.write(`nstrace: warning: ${msg}\n`);
}

function describe(c: ContainerInfo): string {
  const id = /^[0-9a-f]{64}$/.test(c.id) ? c.id.slice(0, 12) : c.id;
  return `${c.type} ${c.name === '' ? '-' : c.name} ${id} pid=${c.initPid} pid_ns=${c.ns.pid} cgroup=${c.cgroupPath || '-'}`;
}

export function register(program: Command): void {
  program
    .command('containers')
    .description(
      'List the containers of every runtime on this host (Docker, Podman, containerd/CRI, CRI-O, ' +
        'Kubernetes pods, LXC/LXD, systemd-nspawn, bare pid namespaces) with their namespaces and ' +
        'cgroups; or, given trace paths, the containers seen in those traces.',
    )
    .argument('[trace...]', 'trace directories to list the containers of, instead of the live host')
    .option('--json', 'print JSON instead of a table')
    .option('-a, --all', 'also list containers the runtimes know that are not running')
    .option('--no-api', 'do not ask the runtimes (cgroup and /proc rules only)')
    .option('--no-trunc', 'print full container ids')
    .option('--timeout <ms>', 'timeout of each runtime API call', positiveInt, 500)
    .option('-w, --watch', 'after the list, print each container start and stop until interrupted')
    .option('--docker-socket <path>', 'Docker API socket (repeatable; default /var/run/docker.sock)', collect)
    .option(
      '--podman-socket <path>',
      'Podman API socket (repeatable; default /run/podman/podman.sock and rootless ones)',
      collect,
    )
    .option('--lxc-path <dir>', 'LXC path for --all (repeatable; default /var/lib/lxc)', collect)
    .option('--no-progress', 'no progress bar while reading traces')
    .action(async (paths: string[], opts: Options) => {
      if (paths.length > 0) {
        const lister = traceContainers.lister;
        if (lister === null)
          throw new UsageError('containers: listing the containers of a trace is not yet supported');
        if (opts.watch === true) throw new UsageError('containers: --watch applies to the live host only');
        if (lister.render !== undefined) {
          const render = lister.render;
          const text = await withProgress(opts.progress, (onProgress, signal) =>
            render(paths, { json: opts.json === true, onProgress, signal }),
          );
          process.stdout.write(text);
          return;
        }
        const rows = await withProgress(opts.progress, (onProgress, signal) =>
          lister.list(paths, { onProgress, signal }),
        );
        if (opts.json === true)
          process.stdout.write(
            JSON.stringify(
              rows.map((r) => (lister.toJson ? lister.toJson(r) : r)),
              null,
              2,
            ) + '\n',
          );
        else process.stdout.write(formatContainersTable(rows, { noTrunc: !opts.trunc }));
        return;
      }
      const dopts: DiscoverOptions = {
        api: opts.api,
        all: opts.all === true,
        timeoutMs: opts.timeout,
        onWarning: warn,
        ...(opts.dockerSocket ? { dockerSockets: opts.dockerSocket } : {}),
        ...(opts.podmanSocket ? { podmanSockets: opts.podmanSocket } : {}),
        ...(opts.lxcPath ? { lxcPaths: opts.lxcPath } : {}),
      };
      if (opts.watch === true) {
        await watch(dopts, opts);
        return;
      }
      const { containers } = await discover(dopts);
      if (opts.json === true)
        process.stdout.write(JSON.stringify(containers.map(containerToJson), null, 2) + '\n');
      else process.stdout.write(formatContainersTable(containers, { noTrunc: !opts.trunc }));
    });
}

async function watch(dopts: DiscoverOptions, opts: Options): Promise<void> {
  const line = (kind: string, c: ContainerInfo, reason: string): void => {
    if (opts.json === true)
      process.stdout.write(JSON.stringify({ event: kind, reason, container: containerToJson(c) }) + '\n');
    else process.stdout.write(`${kind} ${describe(c)} (${reason})\n`);
  };
  const w = await watchContainers(
    (c, r) => line('start', c, r),
    (c, r) => line('stop', c, r),
    { ...dopts, onWarning: warn },
  );
  for (const c of w.initial) line('running', c, 'initial');
  process.stderr.write(`nstrace: watching containers (${w.initial.length} running); interrupt to stop\n`);
  await untilInterrupted();
  await w.close();
}
