/**
 * What the three kinds of relay connections share: socket plumbing that never lets a peer
 * crash the daemon (every handler runs guarded; a protocol error closes that one connection),
 * output back-pressure (a peer that does not read its replies stops being served), and the
 * bookkeeping the daemon's limits need (docs/adr/0141-relay-limits.md): when the peer last
 * sent something, since when a command has been in progress, and the memory it makes us hold.
 */
import type { Socket } from 'node:net';
import { ByteQueue } from './bytequeue.js';
import type { BudgetHolder } from './limits.js';
import { COMMAND_PROGRESS_BYTES, mib } from './limits.js';
import type { RelayState } from './state.js';

/** A peer broke the protocol; its connection is closed, nothing else is disturbed. */
export class ProtocolError extends Error {}

/** A peer went over one of the relay's limits; its connection is closed. */
export class LimitError extends ProtocolError {}

/** Stop handling a peer's requests while this much of our output waits for it. */
const OUTPUT_HIGH_WATER = 1024 * 1024;

export type ConnKind = 'control' | 'data' | 'live';

export abstract class Conn implements BudgetHolder {
  dead = false;
  readonly peer: string;
  /** Bytes received from the peer that are not handled yet. */
  protected readonly q = new ByteQueue();
  /** Budgeted bytes charged to this connection (input, output, and what its session holds). */
  charged = 0;
  /** Date.now() of the last bytes from the peer. */
  lastInput = Date.now();
  /** Date.now() since a command has been in progress without completing or advancing enough; 0: none. */
  partialSince = 0;
  private partialBytes = 0;
  /** Commands (or data packets) handled so far. */
  protected commandsDone = 0;
  /** Date.now() when the peer last took some of our output (or had none waiting). */
  lastOutputProgress = Date.now();
  /** Bytes handed to the socket, and how many of them it had written at the last check. */
  private sentTotal = 0;
  private flushedMark = 0;
  private inputCharged = 0;
  private outputCharged = 0;
  /** Handling stopped until the peer reads what we sent. */
  private waitingForDrain = false;

  constructor(
    readonly sock: Socket,
    readonly state: RelayState,
    readonly kind: ConnKind,
    private readonly onGone: (c: Conn) => void,
  ) {
    this.peer = `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`;
    sock.setNoDelay(true);
    // (A socket reading into a shared buffer delivers through `ingest` instead: no 'data'.)
    sock.on('data', (chunk: Buffer) => this.ingest(chunk));
    sock.on('error', (err) => {
      this.state.log('debug', `${kind} connection ${this.peer}: ${err.message}`);
    });
    sock.on('close', () => {
      this.dead = true;
      this.releaseIo();
      try {
        this.onClose();
      } catch (err) {
        this.state.log('error', `${kind} connection ${this.peer}: cleanup failed: ${describe(err)}`);
      }
      this.state.flushDirty();
      this.onGone(this);
    });
  }

  /**
   * Handles bytes from the peer: everything this read completes, its replies (in one write)
   * and its file writes happen before returning.
   */
  ingest(chunk: Buffer): void {
    if (this.dead) return;
    const now = Date.now();
    this.lastInput = now;
    this.q.push(chunk);
    this.pump(chunk.length, now);
  }

  private pump(received: number, now: number): void {
    const sock = this.sock;
    const before = this.commandsDone;
    sock.cork();
    try {
      this.process();
    } catch (err) {
      this.fail(err);
    }
    this.state.flushDirty();
    sock.uncork();
    if (this.dead) return;
    // Slowloris: a command begun must finish, or advance by COMMAND_PROGRESS_BYTES, per timeout.
    if (!this.inCommand() || this.waitingForDrain) {
      this.partialSince = 0;
      this.partialBytes = 0;
    } else if (this.partialSince === 0 || this.commandsDone !== before) {
      this.partialSince = now;
      this.partialBytes = 0;
    } else {
      this.partialBytes += received;
      if (this.partialBytes >= COMMAND_PROGRESS_BYTES) {
        this.partialSince = now;
        this.partialBytes = 0;
      }
    }
    this.account();
    if (this.state.budget.over) this.state.budget.enforce();
  }

  /** Brings this connection's input and output charges up to date. */
  private account(): void {
    const b = this.state.budget;
    this.inputCharged = b.set(this, this.inputCharged, this.q.length + this.heldInput());
    const out = this.checkOutput(Date.now());
    this.outputCharged = b.set(this, this.outputCharged, out);
  }

  /**
   * Notes whether the peer took some of our output since the last check (a write completed, or
   * nothing waits); returns the bytes it has not taken yet.
   */
  checkOutput(now: number): number {
    const unread = this.sock.writableLength;
    const flushed = this.sentTotal - unread;
    if (unread === 0 || flushed > this.flushedMark) {
      this.flushedMark = flushed;
      this.lastOutputProgress = now;
    }
    return unread;
  }

  /** Drops the input and output charges (the connection is gone). */
  private releaseIo(): void {
    this.q.clear();
    const b = this.state.budget;
    this.inputCharged = b.set(this, this.inputCharged, 0);
    this.outputCharged = b.set(this, this.outputCharged, 0);
  }

  /** Handles the queued input (`this.q`); may stop early (see `outputBlocked`). */
  protected abstract process(): void;
  protected abstract onClose(): void;
  /** The peer is in the middle of a command (bytes of it are queued, or a packet is open). */
  protected abstract inCommand(): boolean;
  /** What the command in progress is, for the log line when it times out. */
  abstract describeCommand(): string;
  /** Belongs to a session (the idle timeout does not apply). */
  abstract hasSession(sessionAddrs: ReadonlySet<string>): boolean;
  /** Input bytes held outside `q` (a data packet being assembled). */
  protected heldInput(): number {
    return 0;
  }
  /** Memory freed when this connection is evicted beyond its buffers (a session's streams). */
  protected releaseHeld(_reason: string): void {
    // nothing by default
  }

  /**
   * Request/response connections call this before each request: while too much of our output
   * waits for the peer, stop handling its requests (and reading its socket) until it drains.
   */
  protected outputBlocked(): boolean {
    if (this.sock.writableLength <= OUTPUT_HIGH_WATER) return false;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.sock.pause();
      this.sock.once('drain', () => {
        this.waitingForDrain = false;
        this.checkOutput(Date.now());
        if (this.dead) return;
        this.sock.resume();
        this.pump(0, Date.now());
      });
    }
    return true;
  }

  /** Queues bytes to the peer. */
  send(buf: Uint8Array): void {
    if (this.dead) return;
    if (this.state.options.traceProtocol === true && this.kind !== 'data') {
      this.state.log(
        'debug',
        `${this.kind} ${this.peer}: reply ${Buffer.from(buf.subarray(0, 64)).toString('hex')}`,
      );
    }
    this.sentTotal += buf.length;
    this.sock.write(buf);
  }

  /** Closes this connection because of `err` (a protocol error, a limit, or a failed handler). */
  fail(err: unknown): void {
    if (this.dead) return;
    this.dead = true;
    const c = this.state.counters;
    if (err instanceof LimitError) c.closedByLimits++;
    else c.protocolErrors++;
    const level = err instanceof ProtocolError ? 'warn' : 'error';
    const verb = err instanceof LimitError ? 'closed' : 'closing it';
    this.state.log(
      level,
      err instanceof LimitError
        ? `${this.kind} connection ${this.peer}: ${verb}: ${describe(err)}`
        : `${this.kind} connection ${this.peer}: ${describe(err)}; ${verb}`,
    );
    // An error reply queued before the failure still goes out.
    this.sock.uncork();
    this.sock.destroy();
    this.releaseIo();
  }

  /** Budget eviction: close the connection (if still open) and free what it holds. */
  evict(reason: string): void {
    this.fail(new LimitError(reason));
    this.releaseHeld(reason);
  }

  describeHolding(): string {
    const parts = [];
    if (this.inputCharged > 0) parts.push(`${mib(this.inputCharged)} of unfinished commands`);
    if (this.outputCharged > 0) parts.push(`${mib(this.outputCharged)} of unread replies`);
    const rest = this.charged - this.inputCharged - this.outputCharged;
    if (rest > 0) parts.push(`${mib(rest)} of session state`);
    const who = this.dead ? `the departed ${this.kind} connection ${this.peer}` : 'it';
    return `${who} holds ${parts.length > 0 ? parts.join(' and ') : '0 bytes'}`;
  }

  /** Closes after the queued output has been flushed. */
  end(): void {
    if (this.dead) return;
    this.dead = true;
    this.sock.end();
    // A peer that never reads must not keep us half-open forever.
    this.sock.setTimeout(5000, () => this.sock.destroy());
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A command's header once read: the command and the size of its payload. */
export interface CommandHeader {
  readonly cmd: number;
  readonly size: number;
}

/**
 * The request/response connections (control and live): a fixed-size header, then the
 * command's payload; commands are handled one at a time, in order, and none is read while too
 * much of our output waits for the peer (`outputBlocked`).
 */
export abstract class RequestConn extends Conn {
  /** The header of the command whose payload is awaited. */
  protected hdr: CommandHeader | null = null;

  constructor(
    sock: Socket,
    state: RelayState,
    kind: 'control' | 'live',
    onGone: (c: Conn) => void,
    private readonly headerSize: number,
  ) {
    super(sock, state, kind, onGone);
  }

  /** Reads a header of `headerSize` bytes; null when it ends the connection. */
  protected abstract readHeader(h: Buffer): CommandHeader | null;
  /** Handles one command and its payload. */
  protected abstract dispatch(cmd: number, payload: Buffer): void;

  protected process(): void {
    while (!this.dead) {
      if (this.hdr === null) {
        if (this.q.length < this.headerSize || this.outputBlocked()) return;
        this.hdr = this.readHeader(this.q.take(this.headerSize));
        if (this.hdr === null) return;
      }
      if (this.q.length < this.hdr.size) return;
      const payload = this.q.take(this.hdr.size);
      const cmd = this.hdr.cmd;
      this.hdr = null;
      this.commandsDone++;
      if (this.state.options.traceProtocol === true) {
        const hex = payload.toString('hex').slice(0, 48);
        this.state.log('debug', `${this.kind} ${this.peer}: command ${cmd} ${hex}`);
      }
      this.dispatch(cmd, payload);
    }
  }

  protected inCommand(): boolean {
    return this.hdr !== null || this.q.length > 0;
  }
}
