/** Small helpers to find fields in a class once (outside hot loops). */
import type { EventClass, FieldClass, StructFC } from './ir.js';

/** Index of the field `name` in `struct`, or -1 (also when `struct` is undefined). */
export function fieldIndex(struct: StructFC | undefined, name: string): number {
  if (struct === undefined) return -1;
  for (let i = 0; i < struct.fields.length; i++) {
    if (struct.fields[i]!.name === name) return i;
  }
  return -1;
}

/** Class of the field `name` in `struct`, or undefined. */
export function fieldClass(struct: StructFC | undefined, name: string): FieldClass | undefined {
  const i = fieldIndex(struct, name);
  return i < 0 ? undefined : struct!.fields[i]!.type;
}

/** Index of the payload field `name` of an event class, or -1. */
export function payloadIndex(ec: EventClass, name: string): number {
  return fieldIndex(ec.fields, name);
}
