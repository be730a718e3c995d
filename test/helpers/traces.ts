/**
 * Finding the trace directories of a collection (the shared public traces, fixtures).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Trace directories below `root` (holding `metadata` and at least one stream file; not below
 * another trace, nor in `_reference` folders), sorted.
 */
export function traceDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    if (names.includes('metadata')) {
      const streams = names.filter(
        (n) => n !== 'metadata' && !n.startsWith('.') && statSync(join(d, n)).isFile(),
      );
      if (streams.length > 0) out.push(d);
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (n !== '_reference' && statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}
