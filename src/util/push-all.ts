/**
 * Appends `items` to `dst` one by one: `dst.push(...items)` passes every item as an argument
 * and overflows the call stack past ~100 k items (a log of a real trace has millions of lines).
 */
export function pushAll<T>(dst: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) dst.push(items[i]!);
}
