/**
 * What a peer may cost the relay: how long a command may take to arrive, how long a
 * connection may sit idle without a session, how many connections each port takes, and one
 * memory budget for everything the relay holds on behalf of peers (unfinished commands,
 * replies not yet read, index halves waiting for their other half, stream state). See
 * docs/relay.md ("Limits") and docs/adr/0141-relay-limits.md.
 */
import { openFilesLimit } from './fdcache.js';

export interface RelayLimits {
  /**
   * A command (control or live request, data packet) that has begun must complete, or advance
   * by `COMMAND_PROGRESS_BYTES`, within this time; otherwise its connection is closed. Also how
   * long a peer may take none of our replies, per MiB of them waiting. Default 30 s.
   */
  commandTimeoutMs: number;
  /**
   * A connection without a session (control: no CREATE_SESSION yet; data: no packet of a live
   * session and no session from its address; live: not attached) that sends nothing for this
   * long is closed. Default 60 s.
   */
  idleTimeoutMs: number;
  /** Connections per port (control, data, live each); more are refused. */
  maxConnections: number;
  /** Bytes the relay holds for all peers together; beyond it, the largest holder is closed. */
  memoryBudget: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_MEMORY_BUDGET = 192 * 1024 * 1024;
/** Default connection cap per port, when the open-files limit allows it. */
export const MAX_DEFAULT_CONNECTIONS = 1024;

/** A command in progress must advance by this much per `commandTimeoutMs` (anti-slowloris). */
export const COMMAND_PROGRESS_BYTES = 64 * 1024;

/**
 * Memory charged per index half waiting for its other half (a map entry, its object and the
 * 64/80-byte entry; measured ~330 bytes of RSS each with 200,000 of them).
 */
export const PENDING_INDEX_COST = 320;
/** Memory charged per stream (its objects, names and file state; measured ~2.1 KiB of RSS each with 20,000). */
export const STREAM_COST = 2048;

/**
 * The default connection cap per port: 1024, or less when the open-files limit would not hold
 * three ports of connections in the half of it that the files the relay keeps open leave.
 */
export function defaultMaxConnections(limit = openFilesLimit()): number {
  return Math.max(16, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor((limit / 2 - 32) / 3)));
}

export function resolveLimits(p: Partial<RelayLimits> = {}): RelayLimits {
  const l: RelayLimits = {
    commandTimeoutMs: p.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    idleTimeoutMs: p.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxConnections: p.maxConnections ?? defaultMaxConnections(),
    memoryBudget: p.memoryBudget ?? DEFAULT_MEMORY_BUDGET,
  };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`relay limit ${k} must be positive (got ${v})`);
  }
  return l;
}

/** Something that holds budgeted memory: a connection (alive, or gone with streams left). */
export interface BudgetHolder {
  /** Bytes charged to it now. */
  charged: number;
  /** Still connected (only connections can be refused more input). */
  readonly dead: boolean;
  /** Frees what it holds: a live connection is closed, a gone one's leftover streams closed. */
  evict(reason: string): void;
  /** For log lines. */
  describeHolding(): string;
}

/**
 * One memory budget for all peers. Charges are plain accounting (`add`/`sub`, anywhere);
 * `enforce` runs at safe points (after a connection's read has been handled, and on the
 * daemon's sweep) and, while the total is over the limit, frees the holder that holds the
 * most. Freeing the largest (rather than the one whose bytes arrived last) keeps a relay whose
 * budget was filled by a few peers serving new sessions, whose commands are small.
 */
export class MemoryBudget {
  used = 0;
  /** Highest `used` seen. */
  peak = 0;
  evictions = 0;
  private readonly holders = new Set<BudgetHolder>();

  constructor(readonly limit: number) {}

  add(h: BudgetHolder, n: number): void {
    if (n === 0) return;
    h.charged += n;
    this.used += n;
    if (this.used > this.peak) this.peak = this.used;
    this.holders.add(h);
  }

  sub(h: BudgetHolder, n: number): void {
    if (n === 0) return;
    h.charged -= n;
    this.used -= n;
    if (h.charged <= 0) this.holders.delete(h);
  }

  /** Sets `h`'s charge of one kind from `was` to `now` bytes; returns `now`. */
  set(h: BudgetHolder, was: number, now: number): number {
    if (now > was) this.add(h, now - was);
    else if (now < was) this.sub(h, was - now);
    return now;
  }

  get over(): boolean {
    return this.used > this.limit;
  }

  /** Frees the largest holders until the total fits. Returns how many were freed. */
  enforce(): number {
    let freed = 0;
    const tried = new Set<BudgetHolder>();
    while (this.used > this.limit) {
      let big: BudgetHolder | null = null;
      for (const h of this.holders) {
        if (tried.has(h)) continue;
        if (big === null || h.charged > big.charged) big = h;
      }
      if (big === null) break;
      tried.add(big);
      const what = big.describeHolding();
      big.evict(
        `${what}, and the relay's memory budget of ${mib(this.limit)} is used up ` +
          `(${mib(this.used)} held; --memory-budget)`,
      );
      this.evictions++;
      freed++;
    }
    return freed;
  }
}

export function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
