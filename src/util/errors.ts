/**
 * Typed errors thrown by library code. Only `src/cli/` prints or exits: it turns any
 * `NstraceError` into one line on stderr and `exitCode`.
 */
export class NstraceError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad bytes in a trace: `file` and the byte `offset` where decoding failed. */
export class TraceFormatError extends NstraceError {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, reason: string, options?: { cause?: unknown }) {
    super(offset === undefined ? `${file}: ${reason}` : `${file}: at byte ${offset}: ${reason}`, 1, options);
    this.file = file;
    this.offset = offset;
  }
}

/** Bad TSDL metadata: `file`, 1-based `line` and `column` of the offending token. */
export class MetadataError extends NstraceError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(file: string, line: number | undefined, column: number | undefined, reason: string) {
    const where = line === undefined ? '' : column === undefined ? `:${line}` : `:${line}:${column}`;
    super(`${file}${where}: metadata: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** Wrong command-line usage (bad option value, unknown container, ...). Exit code 2. */
export class UsageError extends NstraceError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The trace lacks what a command needs (events, contexts); the message says how to record them. */
export class MissingEventsError extends NstraceError {
  constructor(message: string) {
    super(message, 3);
  }
}

/** The user interrupted a long operation (Ctrl-C). Exit code 130, as shells report SIGINT. */
export class InterruptedError extends NstraceError {
  constructor(message = 'interrupted') {
    super(message, 130);
  }
}

/** Talking to a relay daemon failed (connection refused, protocol error, error reply). */
export class RelayError extends NstraceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

/**
 * Misuse of the CTF writer (`src/ctf/writer/`): a class it cannot encode, a value that does not
 * fit its class, time going backwards in a stream, writing after `close()`.
 */
export class WriterError extends NstraceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`ctf writer: ${message}`, 1, options);
  }
}
