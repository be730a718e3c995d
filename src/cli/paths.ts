/**
 * Files shipped with the package (samples/), found from wherever the running code lives: the
 * bundled bin (dist/bin/), tsc's output (dist/cli/...) or the sources under vitest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory of nstrace's package.json. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'nstrace')
          return (root = dir);
      } catch {
        // not ours: keep going up
      }
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`nstrace's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A sample trace bundled in `samples/`. */
export function samplePath(name: string): string {
  return join(packageRoot(), 'samples', name);
}
