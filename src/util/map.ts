/** Maps used as tables of rows made on first use. */

/**
 * The value of `key` in `map`; when there is none, `make(key, arg)` is added and returned.
 * `make` is best a module-level function (with what it needs passed as `arg`): on a per-event
 * path a closure would be allocated per call.
 */
export function getOrAdd<K, V>(map: Map<K, V>, key: K, make: (key: K) => V): V;
export function getOrAdd<K, V, A>(map: Map<K, V>, key: K, make: (key: K, arg: A) => V, arg: A): V;
export function getOrAdd<K, V, A>(map: Map<K, V>, key: K, make: (key: K, arg?: A) => V, arg?: A): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make(key, arg);
    map.set(key, v);
  }
  return v;
}

/**
 * Sets `table[index]` and returns `value`, filling the slots before it with undefined first: a
 * table indexed by a small dense key (event class, stream) stays a packed array.
 */
export function setSlot<T>(table: Array<T | undefined>, index: number, value: T): T {
  while (table.length < index) table.push(undefined);
  table[index] = value;
  return value;
}
