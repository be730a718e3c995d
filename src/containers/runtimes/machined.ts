/**
 * systemd-machined's state files, `/run/systemd/machines/<name>` (`KEY=value` lines: LEADER,
 * CLASS, SERVICE, ROOT, SCOPE, ...). Present when nspawn registered the machine with machined.
 */
import { readFileSync } from 'node:fs';

export const DEFAULT_MACHINES_DIR = '/run/systemd/machines';

export interface MachineState {
  name: string;
  leader: number;
  class: string;
  service: string;
  root: string;
  scope: string;
}

export function parseMachineState(name: string, text: string): MachineState {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    name: kv.get('NAME') ?? name,
    leader: Number(kv.get('LEADER') ?? 0) || 0,
    class: kv.get('CLASS') ?? '',
    service: kv.get('SERVICE') ?? '',
    root: kv.get('ROOT') ?? '',
    scope: kv.get('SCOPE') ?? '',
  };
}

export function readMachineState(name: string, dir = DEFAULT_MACHINES_DIR): MachineState | null {
  try {
    return parseMachineState(name, readFileSync(`${dir}/${name}`, 'utf8'));
  } catch {
    return null;
  }
}
