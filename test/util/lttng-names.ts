/**
 * lttng-analyses 0.6.1 reads some kernel events under the names lttng-modules gave them before
 * 2.7; nstrace reads both. For a differential run, the peer gets a copy of the trace (stream
 * files linked) whose metadata uses the old names: otherwise it silently leaves out softirqs and
 * received packets, and the comparison measures its blind spot, not our code.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetadataBytes } from '../../src/ctf/metadata/packetized.js';

/** lttng-modules' names (2.7+) of events lttng-analyses 0.6.1 reads under their old names. */
export const LTTNG_OLD_NAMES: ReadonlyArray<[string, string]> = [
  ['irq_softirq_raise', 'softirq_raise'],
  ['irq_softirq_entry', 'softirq_entry'],
  ['irq_softirq_exit', 'softirq_exit'],
  ['net_if_receive_skb', 'netif_receive_skb'],
];

/**
 * Writes into `dir` (created, must not hold a trace) a copy of the trace `real` whose metadata
 * names the events above as lttng-analyses 0.6.1 knows them; false (nothing written) when the
 * trace has none of them.
 */
export function copyWithOldNames(real: string, dir: string): boolean {
  const meta = readMetadataBytes(readFileSync(join(real, 'metadata')), join(real, 'metadata'));
  let text = meta.text;
  let changed = false;
  for (const [now, old] of LTTNG_OLD_NAMES) {
    const re = new RegExp(`name = "${now}";`, 'g');
    if (re.test(text)) {
      text = text.replace(re, `name = "${old}";`);
      changed = true;
    }
  }
  if (!changed) return false;
  mkdirSync(dir, { recursive: true });
  for (const e of readdirSync(real)) {
    if (e !== 'metadata') symlinkSync(join(real, e), join(dir, e));
  }
  writeFileSync(join(dir, 'metadata'), text.startsWith('/* CTF') ? text : `/* CTF 1.8 */\n${text}`);
  return true;
}
