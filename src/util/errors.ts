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

/**
 * `s` with its control characters written as escapes (`\n`, `\x1b`, ...): error messages quote
 * names and text taken from the input (metadata strings, file names), and must stay one line
 * that cannot drive the terminal.
 */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Bad bytes in a trace: `file` and the byte `offset` where decoding failed. */
export class TraceFormatError extends NstraceError {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, reason: string, options?: { cause?: unknown }) {
    super(
      escapeControl(offset === undefined ? `${file}: ${reason}` : `${file}: at byte ${offset}: ${reason}`),
      1,
      options,
    );
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
    super(escapeControl(`${file}${where}: metadata: ${reason}`));
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

/**
 * A filter expression (`--filter`) that cannot be used: bad syntax, an operation LTTng refuses,
 * or a name the trace does not have. `column` is 1-based, in UTF-16 code units of `expression`
 * (`line` too when the expression spans lines); `length` is the width of the offending token.
 * The message is one line with the position and reason, then the expression and a caret line
 * under the token. Exit code 2.
 */
export class FilterSyntaxError extends NstraceError {
  readonly expression: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly reason: string;

  constructor(expression: string, offset: number, reason: string, length = 1) {
    const before = expression.slice(0, Math.max(0, offset));
    const line = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const column = offset - lineStart + 1;
    super(renderFilterError(expression, line, column, length, reason), 2);
    this.expression = expression;
    this.line = line;
    this.column = column;
    this.length = length;
    this.reason = reason;
  }
}

function renderFilterError(
  expr: string,
  line: number,
  column: number,
  length: number,
  reason: string,
): string {
  const lines = expr.split('\n');
  const text = lines[line - 1] ?? '';
  const where = lines.length > 1 ? `line ${line}, column ${column}` : `column ${column}`;
  // Keep tabs so that the caret lines up under the token in a terminal.
  const pad = text.slice(0, column - 1).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(length, text.length - (column - 1)));
  return `filter: ${where}: ${reason}\n    ${text}\n    ${pad}^${'~'.repeat(width - 1)}`;
}
