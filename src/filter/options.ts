/**
 * The filtering options every command shares (`--filter`, `-e/--event`, `--exclude`,
 * `--container`, `--container-type`, `--host`), and the function that turns their values and a
 * trace set into one per-record predicate.
 */
import type { Command } from 'commander';
import type { EventRecord, TimeBase, TraceRecord } from '../ctf/event.js';
import type { EventClass, StreamClass, StructFC } from '../ctf/ir.js';
import { FilterSyntaxError, UsageError } from '../util/errors.js';
import { refsOf, type FilterExpr, type RefNode } from './ast.js';
import {
  compileFilter,
  NO_CONTAINER_MODEL,
  NO_HOST_TID_MODEL,
  REJECT_ALL,
  type EventPredicate,
  type FilterEnv,
} from './compile.js';
import { isHostTidRef, resolveRef } from './resolve.js';
import {
  compileContainerSelector,
  hasContainerSelection,
  type ContainerLookup,
  type ContainerSelection,
} from './containers.js';
import { EventNameSelector } from './names.js';
import { parseFilter } from './parser.js';

/** Parsed values of the filtering options, as commander gives them. */
export interface FilterOptionValues {
  readonly filter?: string | undefined;
  readonly event?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly container?: readonly string[] | undefined;
  readonly containerType?: readonly string[] | undefined;
  readonly host?: boolean | undefined;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * Adds the filtering options to `cmd`, with the same names and help text for every command.
 * `--event` gets the short `-e` (as in `lttng enable-event`) unless the command already uses
 * `-e` (as `print` does for babeltrace2's `--end`): add the command's own options first.
 */
export function addFilterOptions(cmd: Command): Command {
  const eShort = cmd.options.some((o) => o.short === '-e') ? '' : '-e, ';
  return cmd
    .option(
      '--filter <expr>',
      'keep events for which the LTTng filter expression is true (syntax of `lttng enable-event --filter`, ' +
        'plus $container.name|id|type|image|pid_ns)',
    )
    .option(
      `${eShort}--event <names>`,
      'keep events whose name matches one of these comma-separated globs (`*` matches anything, ' +
        '`\\*` and `\\,` are a literal star and comma); repeatable',
      collect,
    )
    .option(
      '--exclude <names>',
      'drop events whose name matches one of these comma-separated globs; repeatable',
      collect,
    )
    .option(
      '--container <name>',
      'keep events of containers whose name, id (or id prefix) or pid namespace inode matches this glob; repeatable',
      collect,
    )
    .option(
      '--container-type <type>',
      'keep events of containers of this type (docker, podman, lxc, lxd, nspawn, k8s, unshare, ...); repeatable',
      collect,
    )
    .option(
      '--host',
      'keep events of the host (outside any container); combines with --container/--container-type',
    );
}

/** What `buildRecordFilter` needs of a trace set (the CTF reader's `TraceSet` fits). */
export interface TraceSetLike {
  /** Every event class of the set, by the dense key records carry in `classKey`. */
  readonly eventClasses: readonly {
    readonly key: number;
    readonly eventClass: EventClass;
    readonly streamClass: StreamClass;
  }[];
}

export interface RecordFilterOptions {
  /** The container model's lookup, when there is one for this input. */
  readonly containers?: ContainerLookup | undefined;
  /** Called with advice the CLI may print (e.g. a field no event class has). */
  readonly onWarning?: ((message: string) => void) | undefined;
}

export type RecordFilter = (rec: EventRecord) => boolean;

/** True when `opts` asks for any filtering. */
export function hasFilterOptions(opts: FilterOptionValues): boolean {
  return (
    opts.filter !== undefined ||
    (opts.event?.length ?? 0) > 0 ||
    (opts.exclude?.length ?? 0) > 0 ||
    hasContainerSelection({ containers: opts.container, types: opts.containerType, host: opts.host })
  );
}

/**
 * True when the options need a `ContainerLookup`: a container selector, or `$container` in the
 * expression. Parses the expression (throwing `FilterSyntaxError` for a malformed one), so that a
 * command can decide whether to run the container model before building the filter.
 */
export function needsContainerLookup(opts: FilterOptionValues): boolean {
  if (hasContainerSelection({ containers: opts.container, types: opts.containerType, host: opts.host }))
    return true;
  if (opts.filter === undefined) return false;
  return refsOf(parseFilter(opts.filter)).some((r) => r.root === 'container' || isHostTidRef(r));
}

/** The container selection part of the options. */
export function containerSelectionOf(opts: FilterOptionValues): ContainerSelection {
  return { containers: opts.container, types: opts.containerType, host: opts.host };
}

/**
 * Turns the filtering options into a predicate over the events of `traces`, or undefined when
 * no option asks for filtering. Parses and checks the expression (FilterSyntaxError, exit code 2,
 * for a malformed one or for a `$ctx` name no stream of the trace set records), then compiles it
 * lazily once per event class. Events pass when their name is selected, their container is
 * selected and the expression is true.
 */
export function buildRecordFilter(
  opts: FilterOptionValues,
  traces: TraceSetLike,
  ro: RecordFilterOptions = {},
): RecordFilter | undefined {
  if (!hasFilterOptions(opts)) return undefined;
  const names = new EventNameSelector(opts.event ?? [], opts.exclude ?? []);
  const expr = opts.filter === undefined ? undefined : parseFilter(opts.filter);
  const sel = { containers: opts.container, types: opts.containerType, host: opts.host };
  if (expr !== undefined) checkNames(expr, traces, ro);
  let containerPred: RecordFilter | undefined;
  if (hasContainerSelection(sel)) {
    if (ro.containers === undefined) {
      throw new UsageError(
        '--container, --container-type and --host need the container model, which is not available for this input',
      );
    }
    containerPred = compileContainerSelector(sel, ro.containers);
  }
  const env: FilterEnv = { containers: ro.containers };
  const infos = traces.eventClasses;
  // One predicate per event class, by dense class key, compiled when the class first shows up.
  const table: (EventPredicate | undefined)[] = new Array<EventPredicate | undefined>(infos.length).fill(
    undefined,
  );
  const forClass = (key: number): EventPredicate => {
    const info = infos[key];
    if (info === undefined) throw new Error(`record filter: unknown event class key ${key}`);
    const ec = info.eventClass;
    const p = !names.matches(ec.name)
      ? REJECT_ALL
      : expr === undefined
        ? ACCEPT_ALL
        : compileFilter(expr, ec, info.streamClass, env);
    table[key] = p;
    return p;
  };
  const dispatch = (rec: EventRecord): boolean => (table[rec.classKey] ?? forClass(rec.classKey))(rec);
  if (containerPred === undefined) return dispatch;
  const cp = containerPred;
  return (rec) => dispatch(rec) && cp(rec);
}

const ACCEPT_ALL: EventPredicate = () => true;

/** Names of the context fields of a struct, without TSDL's leading underscores. */
function contextNames(s: StructFC | undefined): string[] {
  return (s?.fields ?? []).map((f) => f.name.replace(/^_+/, ''));
}

function classesOf(traces: TraceSetLike): Array<[EventClass, StreamClass]> {
  return traces.eventClasses.map((i) => [i.eventClass, i.streamClass]);
}

/**
 * `$ctx`/`$app` names that no class of the trace set has are errors (LTTng would silently
 * filter everything out; offline we can only evaluate what was recorded). Payload fields no
 * class has get a warning.
 */
function checkNames(expr: FilterExpr, traces: TraceSetLike, ro: RecordFilterOptions): void {
  const classes = classesOf(traces);
  const has = (ref: RefNode): boolean => classes.some(([ec, sc]) => resolveRef(ref, ec, sc) !== undefined);
  for (const ref of refsOf(expr)) {
    if (ref.root === 'container') {
      if (ro.containers === undefined) {
        throw new FilterSyntaxError(expr.text, ref.start, NO_CONTAINER_MODEL, ref.end - ref.start);
      }
      continue;
    }
    if (has(ref)) continue;
    if (isHostTidRef(ref)) {
      if (ro.containers?.hostTid === undefined) {
        throw new FilterSyntaxError(expr.text, ref.start, NO_HOST_TID_MODEL, ref.end - ref.start);
      }
      continue;
    }
    if (ref.root === 'payload') {
      ro.onWarning?.(
        `filter: no event of this trace has a field '${ref.name}': the expression is false for every event`,
      );
      continue;
    }
    const available = new Set<string>();
    const seen = new Set<StreamClass>();
    for (const [ec, sc] of classes) {
      if (!seen.has(sc)) {
        seen.add(sc);
        contextNames(sc.eventContext).forEach((n) => available.add(n));
        if (contextNames(sc.packetContext).includes('cpu_id')) available.add('cpu_id');
      }
      contextNames(ec.context).forEach((n) => available.add(n));
    }
    const ctx = [...available].filter((n) => !n.startsWith('app_') && !n.endsWith('_tag')).sort();
    const app = [...available].filter((n) => n.startsWith('app_') && !n.endsWith('_tag'));
    const list =
      ctx.length === 0 && app.length === 0
        ? 'this trace records no context fields'
        : 'this trace has ' +
          [...ctx.map((n) => `$ctx.${n}`), ...app.map((n) => `$app.${n.slice(4).replace('_', ':')}`)].join(
            ', ',
          );
    const what = ref.root === 'ctx' ? `$ctx.${ref.name}` : `$app.${ref.name}`;
    throw new FilterSyntaxError(
      expr.text,
      ref.start,
      `unknown context ${what}: ${list}`,
      ref.end - ref.start,
    );
  }
}

/** A source of records in time order (the reader's `TraceSet`, or a wrapper of it). */
export interface RecordStream {
  readonly base: TimeBase;
  next(): TraceRecord | null;
}

/**
 * `src` without the events `keep` rejects (lost-event records pass). Returns `src` itself when
 * there is nothing to filter, so that the unfiltered path costs nothing.
 */
export function filterRecords(src: RecordStream, keep: RecordFilter | undefined): RecordStream {
  if (keep === undefined) return src;
  return {
    base: src.base,
    next(): TraceRecord | null {
      for (;;) {
        const r = src.next();
        if (r === null || r.kind !== 'event' || keep(r)) return r;
      }
    },
  };
}
