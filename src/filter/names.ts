/**
 * Event-name selection like `lttng enable-event`: `-e NAME[,NAME...]` and
 * `--exclude XNAME[,XNAME...]`, where names are star-glob patterns (`*` matches anything, `\*`
 * is a literal star) and `\,` is a literal comma. An event is selected when its name matches one
 * NAME (any name when no `-e` is given) and no XNAME. Selection is decided once per event class.
 */
import { UsageError } from '../util/errors.js';
import { normalizeStarGlob, starGlobMatch } from './strings.js';

/**
 * Splits a comma-separated list; `\,` is a comma inside a name, other backslashes are kept (for
 * the glob matcher). Empty items are dropped.
 */
export function splitNameList(arg: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!;
    if (c === '\\' && arg[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

export class EventNameSelector {
  private readonly include: readonly string[];
  private readonly exclude: readonly string[];

  /** `include`/`exclude` are option values, each possibly a comma list. */
  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    const parse = (option: string, values: readonly string[]): string[] => {
      const names = values.flatMap(splitNameList);
      if (values.length > 0 && names.length === 0) throw new UsageError(`${option}: empty event name`);
      return names.map(normalizeStarGlob);
    };
    this.include = parse('--event', include);
    this.exclude = parse('--exclude', exclude);
  }

  /** True when the selector restricts anything. */
  get active(): boolean {
    return this.include.length > 0 || this.exclude.length > 0;
  }

  matches(name: string): boolean {
    if (this.include.length > 0 && !this.include.some((p) => starGlobMatch(p, name))) return false;
    return !this.exclude.some((p) => starGlobMatch(p, name));
  }
}
