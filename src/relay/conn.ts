/**
 * What the three kinds of relay connections share: socket plumbing that never lets a peer
 * crash the daemon (every handler runs guarded; a protocol error closes that one connection),
 * and output back-pressure (a peer that does not read its replies stops being read).
 */
import type { Socket } from 'node:net';
import type { RelayState } from './state.js';

/** A peer broke the protocol; its connection is closed, nothing else is disturbed. */
export class ProtocolError extends Error {}

/** Pause reading a peer once this much of our output is waiting for it. */
const MAX_PENDING_OUTPUT = 16 * 1024 * 1024;

export type ConnKind = 'control' | 'data' | 'live';

export abstract class Conn {
  dead = false;
  readonly peer: string;

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
    const sock = this.sock;
    sock.cork();
    try {
      this.onData(chunk);
    } catch (err) {
      this.fail(err);
    }
    this.state.flushDirty();
    sock.uncork();
  }

  protected abstract onData(chunk: Buffer): void;
  protected abstract onClose(): void;

  /** Queues bytes to the peer, pausing input while too much output waits. */
  send(buf: Uint8Array): void {
    if (this.dead) return;
    if (this.state.options.traceProtocol === true && this.kind !== 'data') {
      this.state.log(
        'debug',
        `${this.kind} ${this.peer}: reply ${Buffer.from(buf.subarray(0, 64)).toString('hex')}`,
      );
    }
    this.sock.write(buf);
    if (this.sock.writableLength > MAX_PENDING_OUTPUT && !this.sock.isPaused()) {
      this.sock.pause();
      this.sock.once('drain', () => {
        if (!this.dead) this.sock.resume();
      });
    }
  }

  /** Closes this connection because of `err` (a protocol error or a failed handler). */
  fail(err: unknown): void {
    if (this.dead) return;
    this.dead = true;
    this.state.counters.protocolErrors++;
    const level = err instanceof ProtocolError ? 'warn' : 'error';
    this.state.log(level, `${this.kind} connection ${this.peer}: ${describe(err)}; closing it`);
    // An error reply queued before the failure still goes out.
    this.sock.uncork();
    this.sock.destroy();
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
