/** The CTF module's public surface. */
export { TraceSet, type EventClassInfo } from './reader.js';
export { findTraces, type OpenOptions } from './open.js';
export { readMetadataFile, parseMetadata } from './metadata/index.js';
export * from './event.js';
export type * from './ir.js';
export { fieldIndex, fieldClass, payloadIndex } from './fields.js';
export { traceVisibility, type Vis, type TraceVisibility } from './visibility.js';
