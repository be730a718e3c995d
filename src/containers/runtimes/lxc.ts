/**
 * LXC's own files: `<lxcpath>/<name>/config` (the container's configuration) for every defined
 * container, whether running or not. The lxcpath of a running container is on its monitor's
 * command line (`[lxc monitor] <lxcpath> <name>`); `/var/lib/lxc` is the system default.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { runtimeContainer } from './types.js';
import type { RuntimeContainer } from './types.js';

export const DEFAULT_LXC_PATHS = ['/var/lib/lxc'];

/** `key = value` lines of an LXC config (later keys win; `#` comments and blank lines skipped). */
export function parseLxcConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

export function readLxcContainer(lxcPath: string, name: string): RuntimeContainer | null {
  let text: string;
  try {
    text = readFileSync(`${lxcPath}/${name}/config`, 'utf8');
  } catch {
    return null;
  }
  const cfg = parseLxcConfig(text);
  // `lxc.rootfs.path` (LXC >= 2.1) or `lxc.rootfs` (older); strip a `dir:` storage prefix.
  const rootfs = (cfg.get('lxc.rootfs.path') ?? cfg.get('lxc.rootfs') ?? '').replace(/^dir:/, '');
  const labels: Record<string, string> = { 'lxc.lxcpath': lxcPath };
  const uts = cfg.get('lxc.uts.name') ?? cfg.get('lxc.utsname');
  if (uts !== undefined) labels['lxc.uts.name'] = uts;
  return runtimeContainer('lxc-config', 'lxc', name, { name, rootfs, labels, state: 'stopped' });
}

/** Every container defined under the given lxcpaths. */
export function listLxcDefined(lxcPaths: readonly string[]): RuntimeContainer[] {
  const out: RuntimeContainer[] = [];
  for (const p of new Set(lxcPaths)) {
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      const c = readLxcContainer(p, n);
      if (c) out.push(c);
    }
  }
  return out;
}
