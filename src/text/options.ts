/**
 * Options of the pretty printer, named after babeltrace2's `sink.text.pretty` parameters, and
 * the mapping from babeltrace2's command-line options (`--names`, `--fields`, ...) to them.
 */
import { UsageError } from '../util/errors.js';

export interface PrettyOptions {
  /** Field names shown in the payload / in the contexts / in the header / scope names. */
  readonly namesPayload: boolean;
  readonly namesContext: boolean;
  readonly namesHeader: boolean;
  readonly namesScope: boolean;
  /** Optional header fields. */
  readonly fieldTrace: boolean;
  readonly fieldHostname: boolean;
  readonly fieldDomain: boolean;
  readonly fieldProcname: boolean;
  readonly fieldVpid: boolean;
  readonly fieldLoglevel: boolean;
  readonly fieldEmf: boolean;
  readonly fieldCallsite: boolean;
  /** Time delta between consecutive events. */
  readonly delta: boolean;
  readonly clockCycles: boolean;
  readonly clockSeconds: boolean;
  readonly clockDate: boolean;
  /** UTC instead of the local time zone (`TZ`). */
  readonly clockGmt: boolean;
  /** Emit terminal colour codes in event lines. */
  readonly colors: boolean;
  /** Emit terminal colour codes in discarded-items warnings. */
  readonly warningColors: boolean;
}

/** babeltrace2's defaults: payload and context names, hostname/procname/vpid fields, delta. */
export const DEFAULT_PRETTY_OPTIONS: PrettyOptions = {
  namesPayload: true,
  namesContext: true,
  namesHeader: false,
  namesScope: false,
  fieldTrace: false,
  fieldHostname: true,
  fieldDomain: false,
  fieldProcname: true,
  fieldVpid: true,
  fieldLoglevel: false,
  fieldEmf: false,
  fieldCallsite: false,
  delta: true,
  clockCycles: false,
  clockSeconds: false,
  clockDate: false,
  clockGmt: false,
  colors: false,
  warningColors: false,
};

/** What the `print` command line says, before mapping. */
export interface PrintCliOptions {
  /** Every `--names` occurrence, in order (each a comma-separated list). */
  names?: readonly string[] | undefined;
  /** Every `--fields` occurrence, in order. */
  fields?: readonly string[] | undefined;
  noDelta?: boolean | undefined;
  clockCycles?: boolean | undefined;
  clockSeconds?: boolean | undefined;
  clockDate?: boolean | undefined;
  clockGmt?: boolean | undefined;
  /** `never`, `auto` (default), `always`. */
  color?: string | undefined;
}

/** Terminal facts needed for colours (babeltrace2 colours only real terminals it knows). */
export interface TerminalInfo {
  /** `TERM`. */
  readonly term: string | undefined;
  /** `BABELTRACE_TERM_COLOR` (`always`/`never` override the detection). */
  readonly termColor: string | undefined;
  /** Standard output is a terminal. */
  readonly stdoutIsTty: boolean;
  /** Standard error is a terminal. */
  readonly stderrIsTty: boolean;
  /** Output goes to standard output (not `--output FILE`). */
  readonly toStdout: boolean;
}

const TERM_PREFIXES = ['xterm', 'rxvt', 'konsole', 'gnome', 'screen', 'tmux', 'putty'];

/**
 * babeltrace2's rule for "this process may emit colour codes": forced by
 * `BABELTRACE_TERM_COLOR`, else a known `TERM` with standard output and standard error both
 * on a terminal (2.0.4 prints no colour when either is redirected).
 */
export function colorsSupported(t: TerminalInfo): boolean {
  const forced = t.termColor?.toLowerCase();
  if (forced === 'never') return false;
  if (forced === 'always') return true;
  if (t.term === undefined || !TERM_PREFIXES.some((p) => t.term!.startsWith(p))) return false;
  return t.stdoutIsTty && t.stderrIsTty;
}

const NAME_KINDS: Record<string, 'payload' | 'context' | 'header' | 'scope'> = {
  payload: 'payload',
  args: 'payload',
  arg: 'payload',
  context: 'context',
  ctx: 'context',
  header: 'header',
  scope: 'scope',
};

const FIELD_KINDS = new Set([
  'trace',
  'trace:hostname',
  'trace:domain',
  'trace:procname',
  'trace:vpid',
  'loglevel',
  'emf',
  'callsite',
]);

/**
 * Maps babeltrace2 command-line options to printer options exactly like the babeltrace2 CLI
 * does: each `--names`/`--fields` occurrence turns its listed items on; `all`/`none` set the
 * default of the unlisted ones, and an occurrence without `all`/`none` sets it to "hide".
 * Later occurrences override earlier defaults; listed items stay on.
 */
export function prettyOptionsFromCli(cli: PrintCliOptions, term: TerminalInfo): PrettyOptions {
  const o: { -readonly [K in keyof PrettyOptions]: PrettyOptions[K] } = { ...DEFAULT_PRETTY_OPTIONS };
  if (cli.names !== undefined && cli.names.length > 0) {
    const { on, def } = listOption(
      cli.names,
      NAMES_DEFAULTS,
      (it) => NAME_KINDS[it],
      (it) => `unknown name \`${it}\` in --names (expected payload, context, header, scope, all or none)`,
    );
    if (def !== undefined) {
      o.namesPayload = on.has('payload') || def;
      o.namesContext = on.has('context') || def;
      o.namesHeader = on.has('header') || def;
      o.namesScope = on.has('scope') || def;
    }
  }
  if (cli.fields !== undefined && cli.fields.length > 0) {
    const { on, def } = listOption(
      cli.fields,
      FIELDS_DEFAULTS,
      (it) => (FIELD_KINDS.has(it) ? it : undefined),
      (it) =>
        `unknown field \`${it}\` in --fields (expected all, trace, trace:hostname, trace:domain, trace:procname, trace:vpid, loglevel, emf or callsite)`,
    );
    if (def !== undefined) {
      const f = (name: string): boolean => on.has(name) || def;
      o.fieldTrace = f('trace');
      o.fieldHostname = f('trace:hostname');
      o.fieldDomain = f('trace:domain');
      o.fieldProcname = f('trace:procname');
      o.fieldVpid = f('trace:vpid');
      o.fieldLoglevel = f('loglevel');
      o.fieldEmf = f('emf');
      o.fieldCallsite = f('callsite');
    }
  }
  if (cli.noDelta) o.delta = false;
  if (cli.clockCycles) o.clockCycles = true;
  if (cli.clockSeconds) o.clockSeconds = true;
  if (cli.clockDate) o.clockDate = true;
  if (cli.clockGmt) o.clockGmt = true;
  const color = cli.color ?? 'auto';
  if (color !== 'never' && color !== 'auto' && color !== 'always') {
    throw new UsageError(`invalid --color value '${color}' (expected never, auto or always)`);
  }
  const supported = colorsSupported(term);
  o.colors = supported && (color === 'always' || (color === 'auto' && term.toStdout));
  o.warningColors = supported;
  return o;
}

/** The words that set the default of the unlisted items, per option. */
const NAMES_DEFAULTS = new Map([
  ['all', true],
  ['none', false],
]);
const FIELDS_DEFAULTS = new Map([['all', true]]);

/**
 * Reads the occurrences of `--names` or `--fields` like the babeltrace2 CLI: the kinds of the
 * listed items (`kindOf`, undefined for an unknown item) and the default of the unlisted ones
 * (undefined when no occurrence lists anything).
 */
function listOption(
  occurrences: readonly string[],
  defaults: ReadonlyMap<string, boolean>,
  kindOf: (item: string) => string | undefined,
  unknown: (item: string) => string,
): { on: Set<string>; def: boolean | undefined } {
  let def: boolean | undefined;
  const on = new Set<string>();
  for (const occ of occurrences) {
    const items = splitList(occ);
    if (items.length === 0) continue;
    let sawDefault = false;
    for (const it of items) {
      const d = defaults.get(it);
      if (d !== undefined) {
        def = d;
        sawDefault = true;
        continue;
      }
      const kind = kindOf(it);
      if (kind === undefined) throw new UsageError(unknown(it));
      on.add(kind);
    }
    if (!sawDefault) def = false;
  }
  return { on, def };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
