/** The relay's log function and counters: types shared by the state, its streams and the daemon. */
export type LogLevel = 'info' | 'warn' | 'error' | 'debug';
export type LogFn = (level: LogLevel, msg: string) => void;

/** Counters shown in the status line. */
export interface RelayCounters {
  bytesReceived: number;
  packetsReceived: number;
  metadataBytesReceived: number;
  indexesWritten: number;
  sessionsCreated: number;
  streamsCreated: number;
  connectionsAccepted: number;
  protocolErrors: number;
  /** Connections closed by a limit (command or idle timeout, memory budget, unread replies). */
  closedByLimits: number;
  /** Connections refused at the per-port cap. */
  connectionsRefused: number;
}

/** A sessiond trace chunk (CREATE_TRACE_CHUNK). */
export interface TraceChunk {
  id: number;
  creationTimestamp: number;
  overrideName: string | null;
}
