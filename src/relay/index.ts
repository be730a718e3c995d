/**
 * The relay module: an lttng-relayd compatible daemon (`RelayDaemon`), the sending side of the
 * protocol for nstrace's recorder (`RelayClient`), and a trace-directory replayer on top of it.
 */
export { RelayDaemon } from './daemon.js';
export type { ListenSpec, RelayDaemonOptions, RelayStatus } from './daemon.js';
export { RelayClient } from './client.js';
export type { PacketIndexFields, RelayClientOptions, StreamHandle } from './client.js';
export { parseRelayUrl } from './url.js';
export type { RelayUrl } from './url.js';
export { replayTrace, prepareReplay, findTraces, metadataPackets } from './replay.js';
export { RelayTraceSink } from './sink.js';
export type { PreparedReplay, ReplayOptions, ReplayResult } from './replay.js';
export type { GroupBy } from './paths.js';
export type { LogFn, LogLevel, RelayCounters } from './types.js';
export { DEFAULT_CONTROL_PORT, DEFAULT_DATA_PORT, DEFAULT_LIVE_PORT } from './codec.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MEMORY_BUDGET,
  MAX_DEFAULT_CONNECTIONS,
} from './limits.js';
export type { RelayLimits } from './limits.js';
