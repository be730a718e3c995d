/**
 * The analysis handler contract and the process/CPU/container filters shared by analyses.
 *
 * A handler is a plain object created per run. The runner calls `reset(ctx)` once, then binds
 * it to event classes like any subscriber (its callbacks run between the model's `pre` and
 * `post` phases, and only once the analysed period has begun), calls `begin(ts)` when the
 * period starts and `finalize(lastTs)` at the end. Handlers keep their results on themselves.
 */
import type { ContainerInfo, ContainerMatcher } from '../filter/containers.js';
import { compileContainerMatcher } from '../filter/containers.js';
import type { RecordFilter } from '../filter/options.js';
import type { Container } from '../model/containers.js';
import { containerInfos, ModelContainerLookup, unmatchedSelectorMessages } from '../model/lookup.js';
import type { Subscriber } from '../model/dispatch.js';
import type { SystemModel } from '../model/model.js';
import type { Thread } from '../model/threads.js';

export interface AnalysisContext {
  readonly model: SystemModel;
  readonly filter: ProcessFilter;
  /**
   * The event filter (`--filter`, `-e`, `--exclude`), when one is given. The runner calls a
   * handler only for the events it keeps, unless the handler sets `filtersEvents`.
   */
  readonly keep: RecordFilter | undefined;
}

export interface AnalysisHandler extends Subscriber {
  readonly name: string;
  /**
   * True when the handler applies `AnalysisContext.keep` itself (it then sees every event of its
   * classes, as the model does); false or absent: the runner hides the rejected events.
   */
  readonly filtersEvents?: boolean;
  reset(ctx: AnalysisContext): void;
  begin(ts: number): void;
  finalize(lastTs: number): void;
}

export interface FilterSpec {
  /** `--tid` */
  tids?: readonly number[];
  /** `--procname` */
  procnames?: readonly string[];
  /** `--cpu` */
  cpus?: readonly number[];
  /** `--container` globs over names, ids (or id prefixes) and pid namespace inodes (repeatable). */
  containers?: readonly string[];
  /** `--container-type` globs (repeatable). */
  containerTypes?: readonly string[];
  /** `--host`: the host's tasks (alone, or with the selected containers). */
  host?: boolean;
}

/**
 * lttng-analyses' process filter (`--procname`, `--tid`) and CPU filter (`--cpu`), applied to
 * each event as it comes, plus the container selection (`--container`, `--container-type`,
 * `--host`, with src/filter/'s matching), applied to tasks by the container the model binds them
 * to at the end of the replay (docs/adr/0180-one-filter-for-every-command.md): handlers count
 * every task and keep the rows of the selected ones when they finalize (after `model.finish()`).
 */
export class ProcessFilter {
  private readonly tids: ReadonlySet<number> | undefined;
  private readonly procnames: ReadonlySet<string> | undefined;
  private readonly cpus: ReadonlySet<number> | undefined;
  readonly matcher: ContainerMatcher;
  private readonly lookup: ModelContainerLookup | undefined;
  private readonly model: SystemModel | undefined;
  /** Verdicts per container view (threads) and per container (tables), while the registry's version holds. */
  private viewCache = new Map<ContainerInfo, boolean>();
  private cache = new Map<Container, boolean>();
  private cacheVersion = -1;

  constructor(spec: FilterSpec = {}, model?: SystemModel, lookup?: ModelContainerLookup) {
    this.tids = spec.tids !== undefined && spec.tids.length > 0 ? new Set(spec.tids) : undefined;
    this.procnames =
      spec.procnames !== undefined && spec.procnames.length > 0 ? new Set(spec.procnames) : undefined;
    this.cpus = spec.cpus !== undefined && spec.cpus.length > 0 ? new Set(spec.cpus) : undefined;
    this.matcher = compileContainerMatcher({
      containers: spec.containers,
      types: spec.containerTypes,
      host: spec.host,
    });
    this.model = model;
    this.lookup = lookup ?? (model === undefined ? undefined : new ModelContainerLookup(model));
  }

  /** Whether `--container`, `--container-type` or `--host` restricts the tasks. */
  get selectsContainers(): boolean {
    return this.matcher.active;
  }

  cpu(id: number): boolean {
    return this.cpus === undefined || this.cpus.has(id);
  }

  /** `--tid` and `--procname`, as lttng-analyses applies them to the task of each event. */
  process(t: Thread): boolean {
    return this.processIds(t.tid, t.comm);
  }

  /** The same, for a task known by its tid and name (lttng-analyses' `_filter_process`). */
  processIds(tid: number, comm: string): boolean {
    if (this.procnames !== undefined && !this.procnames.has(comm)) return false;
    return this.tids === undefined || this.tids.has(tid);
  }

  /** Whether `--tid` or `--procname` is given. */
  get filtersProcesses(): boolean {
    return this.procnames !== undefined || this.tids !== undefined;
  }

  private checkVersion(): void {
    const v = this.model?.containers.version ?? 0;
    if (v !== this.cacheVersion) {
      this.viewCache = new Map();
      this.cache = new Map();
      this.cacheVersion = v;
    }
  }

  /**
   * Whether the thread's container (as the model knows it now: at `finalize`, its final one) is
   * selected; always true without a container selection. A `--container PID_NS` selects the
   * threads of that pid namespace only.
   */
  threadSelected(t: Thread): boolean {
    if (!this.matcher.active) return true;
    const c = this.lookup?.ofThread(t);
    if (c === undefined) return this.matcher.host;
    this.checkVersion();
    let r = this.viewCache.get(c);
    if (r === undefined) {
      r = this.matcher.matches(c);
      this.viewCache.set(c, r);
    }
    return r;
  }

  /**
   * Whether a container's row is selected: the host with `--host`, a container when one of its
   * pid namespaces (incarnations) is selected (always true without a container selection).
   */
  container(c: Container): boolean {
    if (!this.matcher.active) return true;
    if (c.isHost) return this.matcher.host;
    this.checkVersion();
    let r = this.cache.get(c);
    if (r === undefined) {
      r = containerInfos([c]).some((i) => this.matcher.matches(i));
      this.cache.set(c, r);
    }
    return r;
  }

  /** Messages for `--container`/`--container-type` values that matched no container of the model (call at the end). */
  unmatched(): string[] {
    return this.model === undefined ? [] : unmatchedSelectorMessages(this.matcher, this.model);
  }
}
