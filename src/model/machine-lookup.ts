/**
 * The container lookup of a trace set whose traces come from several machines: one model (and
 * one `ModelContainerLookup`) per machine (src/model/machines.ts: same clock UUID), each fed
 * only its machine's records, so that tids, CPUs and namespace inodes of two kernels never meet.
 * With one machine it is one model, as before. `print` uses it; the analyses open one trace set
 * per machine instead.
 */
import type { EventRecord, StreamInstance, Trace, TraceRecord } from '../ctf/event.js';
import type { ContainerInfo, ContainerLookup, ContainerMatcher } from '../filter/containers.js';
import { Dispatcher } from './dispatch.js';
import type { ModelFedSource } from './lookup.js';
import { ModelContainerLookup, unmatchedSelectorMessages } from './lookup.js';
import { traceMeta } from './machines.js';
import type { SystemModel } from './model.js';
import { setSlot } from '../util/map.js';

/** The machine key of a trace: its clock UUID, else its hostname (see `groupByMachine`). */
export function machineKeyOf(trace: Trace): string {
  const m = traceMeta(trace.path, trace.cls);
  return m.clockUuid ?? `hostname:${m.hostname ?? ''}`;
}

export class MachineLookup implements ContainerLookup {
  /** One lookup per machine key, in the order met. */
  private readonly byKey = new Map<string, ModelContainerLookup>();
  /** Per stream index: its machine's lookup, and the dispatcher of its model. */
  private readonly byStream: Array<ModelContainerLookup | undefined> = [];
  private readonly dispatchers = new Map<ModelContainerLookup, Dispatcher>();
  private readonly streamDispatchers: Array<Dispatcher | undefined> = [];

  constructor(private readonly makeModel: () => SystemModel) {}

  /** The lookup of a stream's machine (created on first use). */
  private of(stream: StreamInstance): ModelContainerLookup {
    let l = this.byStream[stream.index];
    if (l !== undefined) return l;
    const key = machineKeyOf(stream.trace);
    l = this.byKey.get(key);
    if (l === undefined) {
      l = new ModelContainerLookup(this.makeModel());
      const f = this.finals?.byKey.get(key);
      if (f !== undefined) l.useFinal(f.model);
      this.byKey.set(key, l);
    }
    return setSlot(this.byStream, stream.index, l);
  }

  /** Every machine's lookup with its key. */
  machines(): Array<[string, ModelContainerLookup]> {
    return [...this.byKey];
  }

  at(rec: EventRecord): ContainerInfo | undefined {
    return this.of(rec.stream).at(rec);
  }

  hostTid(rec: EventRecord): number | undefined {
    return this.of(rec.stream).hostTid(rec);
  }

  get version(): number {
    let v = 0;
    for (const l of this.byKey.values()) v += l.version;
    return v;
  }

  /** `src` with every event dispatched to its machine's model first (both phases). */
  feed(src: ModelFedSource): ModelFedSource {
    return {
      base: src.base,
      next: (): TraceRecord | null => {
        const r = src.next();
        if (r !== null && r.kind === 'event') {
          const d = this.streamDispatchers[r.stream.index] ?? this.dispatcherOfStream(r.stream);
          d.dispatch(r);
        }
        return r;
      },
    };
  }

  private dispatcherOfStream(stream: StreamInstance): Dispatcher {
    const l = this.of(stream);
    let d = this.dispatchers.get(l);
    if (d === undefined) {
      d = new Dispatcher([l.model.pre, l.model.post]);
      this.dispatchers.set(l, d);
    }
    return setSlot(this.streamDispatchers, stream.index, d);
  }

  /**
   * Gives each machine's lookup the complete replay of the same machine (`ModelContainerLookup.
   * useFinal`): `finals` is another `MachineLookup` fed the same records to the end.
   */
  useFinal(finals: MachineLookup): void {
    this.finals = finals;
    for (const [key, l] of this.byKey) {
      const f = finals.byKey.get(key);
      if (f !== undefined) l.useFinal(f.model);
    }
  }

  /** The complete replay, once `useFinal` gave it (machines met later take theirs from it). */
  private finals: MachineLookup | undefined;

  /** Ends every machine's replay (`SystemModel.finish`). */
  finish(): void {
    for (const l of this.byKey.values()) l.model.finish();
  }

  /**
   * Messages for selectors that select no container of any machine (a pattern that matches on
   * one machine is fine on the others).
   */
  unmatchedMessages(m: ContainerMatcher): string[] {
    const per = [...this.byKey].map(([key, l]) => {
      const final = this.finals?.byKey.get(key)?.model ?? l.model;
      return unmatchedSelectorMessages(m, final, l);
    });
    if (per.length === 0 || per.some((x) => x.length === 0)) return [];
    return per.length === 1 ? per[0]! : per.map((x, i) => `machine ${i + 1}: ${x.join('; ')}`);
  }
}
