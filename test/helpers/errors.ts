/**
 * The error `fn` throws, when it is a `type`: another error is thrown on, and none at all
 * fails the test (`no error`).
 */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error('no error');
}
