/**
 * The capture backends of `nstrace record` behind one entry point: `record(opts)` runs the
 * tracefs recorder (tracefs/recorder.ts) or the bpf one (bpf/recorder.ts); both write the same CTF
 * kernel trace and return the same summary. `auto` picks bpf where the kernel allows it.
 */
import fs from 'node:fs';
import { UsageError } from '../util/errors.js';
import type { RecordOptions, RecordSummary } from './options.js';
import { Recorder } from './tracefs/recorder.js';
import { BpfRecorder } from './bpf/recorder.js';
import type { BpfRecordSummaryExtra } from './bpf/session.js';
import { hasRecordSelection } from './bpf/select.js';
import { ffiAvailable } from '../bpf/sys.js';

export type BackendName = 'bpf' | 'tracefs';

export interface BackendChoice {
  backend: BackendName;
  /** Why (for `auto`: what made it pick this one). */
  reason: string;
}

/** Why the bpf backend cannot run here, or undefined when it can. */
export function bpfUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `BPF capture is linux-x64 only (this is ${process.platform}-${process.arch})`;
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  if (!ffiAvailable()) return 'the FFI library (koffi) does not load';
  return undefined;
}

export function chooseBackend(requested: RecordOptions['backend']): BackendChoice {
  const why = bpfUnavailableReason();
  if (requested === 'tracefs') return { backend: 'tracefs', reason: 'requested' };
  if (requested === 'bpf') {
    if (why) throw new UsageError(`--backend bpf: ${why}`);
    return { backend: 'bpf', reason: 'requested' };
  }
  if (why) return { backend: 'tracefs', reason: why };
  return { backend: 'bpf', reason: 'the kernel has BTF and BPF tracepoint programs' };
}

export type AnySummary = RecordSummary & { backend: BackendName; bpf?: BpfRecordSummaryExtra };

/** Records with the chosen backend until the duration, the abort signal or an error. */
export async function record(opts: RecordOptions, choice = chooseBackend(opts.backend)): Promise<AnySummary> {
  if (choice.backend === 'bpf') {
    const s = await new BpfRecorder(opts).run();
    return { ...s, backend: 'bpf' };
  }
  if (opts.contexts?.includes('cgroup_id' as never)) {
    throw new UsageError('the cgroup_id context needs the bpf backend (--backend bpf)');
  }
  if (hasRecordSelection(opts.select)) {
    const s = opts.select!;
    if (
      (s.containers?.length ?? 0) > 0 ||
      (s.containerTypes?.length ?? 0) > 0 ||
      s.host ||
      (s.cgroups?.length ?? 0) > 0 ||
      (s.pidNs?.length ?? 0) > 0
    ) {
      throw new UsageError(
        'record-time selection (--container, --container-type, --host, --pid-ns, --cgroup) needs the bpf backend; ' +
          'with tracefs, record everything and select in the analyses (nstrace cputop --container ...)',
      );
    }
  }
  const s = await new Recorder(opts).run();
  return { ...s, backend: 'tracefs' };
}
