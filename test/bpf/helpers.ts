/** When the BPF tests run, skip or fail (CI=true or NSTRACE_EXPECT_BPF=1: they must run). */
import fs from 'node:fs';
import { ffiAvailable } from '../../src/bpf/sys.js';

export const bpfExpected = process.env['CI'] === 'true' || process.env['NSTRACE_EXPECT_BPF'] === '1';

/** Why BPF cannot be used here, or undefined when it can. */
export function bpfUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'BPF backend is linux-x64 only';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF';
  if (!ffiAvailable()) return 'koffi does not load';
  return undefined;
}

/**
 * `describe`-level switch: the reason to skip, or undefined to run. When BPF is expected
 * (CI) and unavailable this throws, so the run fails instead of skipping.
 */
export function bpfSkip(): boolean {
  const why = bpfUnavailable();
  if (why !== undefined && bpfExpected) throw new Error(`BPF tests expected to run (CI) but cannot: ${why}`);
  return why !== undefined;
}
