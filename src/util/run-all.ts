/**
 * Runs every step, in order, even when some throw; then throws the error of the last step that
 * threw: what `try { a() } finally { try { b() } finally { c() } }` does, without the nesting.
 */
export function runAll(steps: ReadonlyArray<() => void>): void {
  let failed = false;
  let error: unknown;
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      failed = true;
      error = err;
    }
  }
  if (failed) throw error;
}
