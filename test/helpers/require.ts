/**
 * The one way a test file finds out whether a capability it needs is here (root, tracefs,
 * babeltrace2, lttng, docker, ...).
 *
 * Locally a missing capability skips the tests that need it, with a loud line saying what is
 * missing and how to get it. With `CI=true` (or `NSTRACE_REQUIRE_ALL=1`) it fails the run
 * instead: `scripts/test-setup.sh` installs every capability listed here, so a CI machine that
 * lost one must not pass without testing it. A capability that can truly be absent on CI is
 * checked with `optional: true` and a comment at the call saying why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Returns undefined when the capability is there, else why it is not. */
export type CapabilityCheck = () => string | undefined | null | false;

export interface RequireOptions {
  /** The capability may be absent on CI too: skip there as well (say why at the call). */
  readonly optional?: boolean;
}

/** Thrown at file load when a required capability is missing under CI. */
export class MissingCapabilityError extends Error {
  constructor(name: string, reason: string) {
    super(
      `required test capability '${name}' is missing: ${reason}. ` +
        'CI=true: scripts/test-setup.sh must provide it (this run fails instead of skipping).',
    );
    this.name = 'MissingCapabilityError';
  }
}

/** True when missing capabilities must fail the run (CI). */
export function strictCapabilities(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? '').toLowerCase();
  return ci === 'true' || ci === '1' || env.NSTRACE_REQUIRE_ALL === '1';
}

const seen = new Map<string, string | undefined>();

/**
 * Runs `check` (once per name and process) and returns why `name` is missing, or undefined
 * when it is there. Missing: under CI throws `MissingCapabilityError`, else warns loudly.
 * Use the result with `describe.skipIf(reason !== undefined)`.
 */
export function capabilityMissing(
  name: string,
  check: CapabilityCheck,
  options: RequireOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  let reason: string | undefined;
  if (seen.has(name)) reason = seen.get(name);
  else {
    let r: string | undefined | null | false;
    try {
      r = check();
    } catch (e) {
      r = `checking it failed: ${(e as Error).message}`;
    }
    reason = r === undefined || r === null || r === false || r === '' ? undefined : r;
    seen.set(name, reason);
  }
  if (reason === undefined) return undefined;
  if (strictCapabilities(env) && options.optional !== true) throw new MissingCapabilityError(name, reason);
  console.warn(
    `\n*** SKIPPING tests that need ${name}: ${reason}${options.optional === true ? ' (optional)' : ' (run sh scripts/test-setup.sh; under CI=true this fails)'}\n`,
  );
  return reason;
}

/** `capabilityMissing` as a boolean: true when the capability is here. */
export function requireCapability(
  name: string,
  check: CapabilityCheck,
  options: RequireOptions = {},
): boolean {
  return capabilityMissing(name, check, options) === undefined;
}

// ---- the usual checks -------------------------------------------------------------------------

/** The first of `cmds` not on PATH, as a reason; undefined when all are there. */
export function commandsCheck(...cmds: string[]): CapabilityCheck {
  return () => {
    const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
    const absent = cmds.filter((c) => !dirs.some((d) => existsSync(join(d, c))));
    return absent.length > 0 ? `${absent.join(', ')} not installed` : undefined;
  };
}

export const rootCheck: CapabilityCheck = () =>
  process.getuid?.() === 0 ? undefined : 'needs root (run the tests as root)';

/** babeltrace2 2.0.x, the reference of `print`. */
export const babeltrace2Check: CapabilityCheck = () => {
  const r = spawnSync('babeltrace2', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return 'babeltrace2 is not installed';
  return /2\.0\./.test(r.stdout) ? undefined : `babeltrace2 is not 2.0.x (${r.stdout.split('\n')[0]})`;
};

/** The shared public trace collection: not part of the repository, so optional everywhere. */
export const SHARED_TRACES = '/work/shared/traces';
export const sharedTracesCheck: CapabilityCheck = () =>
  existsSync(SHARED_TRACES) ? undefined : `${SHARED_TRACES} is absent (public traces, not in the repository)`;

/** `capabilityMissing` for the shared traces (optional: CI may lack them). */
export function sharedTracesMissing(): string | undefined {
  return capabilityMissing('the shared trace collection', sharedTracesCheck, { optional: true });
}
