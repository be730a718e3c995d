/**
 * The analysis handler contract and the process/CPU/container filters shared by analyses.
 *
 * A handler is a plain object created per run. The runner calls `reset(ctx)` once, then binds
 * it to event classes like any subscriber (its callbacks run between the model's `pre` and
 * `post` phases, and only once the analysed period has begun), calls `begin(ts)` when the
 * period starts and `finalize(lastTs)` at the end. Handlers keep their results on themselves.
 */
import type { Container } from '../model/containers.js';
import type { Subscriber } from '../model/dispatch.js';
import type { SystemModel } from '../model/model.js';
import type { Thread } from '../model/threads.js';

export interface AnalysisContext {
  readonly model: SystemModel;
  readonly filter: ProcessFilter;
}

export interface AnalysisHandler extends Subscriber {
  readonly name: string;
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
  /** `--container NAME|ID|PID_NS` (repeatable). */
  containers?: readonly string[];
  /** `--host`: the host's tasks (alone, or with the selected containers). */
  host?: boolean;
}

/** Whether a selector names a container: its name, id (or an id prefix of 4+ hex digits), or a pid namespace inode. */
export function selectorMatches(sel: string, c: Container): boolean {
  if (c.isHost) return sel === c.name || sel === 'host' || sel === c.id;
  if (sel === c.name || sel === c.id) return true;
  if (/^[0-9a-f]{4,}$/i.test(sel) && c.id.toLowerCase().startsWith(sel.toLowerCase())) return true;
  if (/^\d+$/.test(sel)) {
    const n = Number(sel);
    if (c.pidNsList.includes(n)) return true;
  }
  return false;
}

/**
 * lttng-analyses' process filter (`--procname`, `--tid`) and CPU filter (`--cpu`), plus the
 * container selection (`--container`, `--host`) applied to the thread's container.
 */
export class ProcessFilter {
  private readonly tids: ReadonlySet<number> | undefined;
  private readonly procnames: ReadonlySet<string> | undefined;
  private readonly cpus: ReadonlySet<number> | undefined;
  private readonly selectors: readonly string[];
  private readonly host: boolean;
  private readonly containersActive: boolean;
  private readonly model: SystemModel | undefined;
  private cache = new Map<Container, boolean>();
  private cacheVersion = -1;

  constructor(spec: FilterSpec = {}, model?: SystemModel) {
    this.tids = spec.tids !== undefined && spec.tids.length > 0 ? new Set(spec.tids) : undefined;
    this.procnames =
      spec.procnames !== undefined && spec.procnames.length > 0 ? new Set(spec.procnames) : undefined;
    this.cpus = spec.cpus !== undefined && spec.cpus.length > 0 ? new Set(spec.cpus) : undefined;
    this.selectors = spec.containers ?? [];
    this.host = spec.host ?? false;
    this.containersActive = this.selectors.length > 0 || this.host;
    this.model = model;
  }

  /** Whether any process-level filter is set (tid, procname or container). */
  get active(): boolean {
    return this.tids !== undefined || this.procnames !== undefined || this.containersActive;
  }

  cpu(id: number): boolean {
    return this.cpus === undefined || this.cpus.has(id);
  }

  process(t: Thread): boolean {
    if (this.procnames !== undefined && !this.procnames.has(t.comm)) return false;
    if (this.tids !== undefined && !this.tids.has(t.tid)) return false;
    if (this.containersActive) {
      const m = this.model;
      const c = t.container ?? m?.containers.host;
      if (c === undefined || !this.container(c)) return false;
    }
    return true;
  }

  /** Whether the thread's container is selected (always true without `--container`/`--host`). */
  inSelectedContainer(t: Thread): boolean {
    if (!this.containersActive) return true;
    const c = t.container ?? this.model?.containers.host;
    return c !== undefined && this.container(c);
  }

  /** Whether a container is selected (always true without `--container`/`--host`). */
  container(c: Container): boolean {
    if (!this.containersActive) return true;
    const reg = this.model?.containers;
    if (reg !== undefined && reg.version !== this.cacheVersion) {
      this.cache = new Map();
      this.cacheVersion = reg.version;
    }
    let r = this.cache.get(c);
    if (r === undefined) {
      r = c.isHost && this.host;
      for (const s of this.selectors) {
        if (selectorMatches(s, c)) r = true;
      }
      this.cache.set(c, r);
    }
    return r;
  }

  /** `--container` selectors that matched no container of the model (call at the end). */
  unmatchedSelectors(): string[] {
    const all = this.model?.containers.all() ?? [];
    return this.selectors.filter((s) => !all.some((c) => selectorMatches(s, c)));
  }
}
