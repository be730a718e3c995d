/**
 * LTTng network URLs: `net://HOST[:CONTROL_PORT[:DATA_PORT]][/BASE/PATH]` (IPv4 or a name),
 * `net6://[ADDR][:CONTROL_PORT[:DATA_PORT]][/BASE/PATH]` (IPv6), as `lttng create --set-url`
 * takes them.
 */
import { UsageError } from '../util/errors.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_DATA_PORT } from './codec.js';

export interface RelayUrl {
  host: string;
  controlPort: number;
  dataPort: number;
  /** Path part without leading slash ('' when absent): the session goes to HOST/BASE/PATH. */
  basePath: string;
  family: 4 | 6 | 0;
}

function port(s: string, url: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new UsageError(`bad port "${s}" in relay URL ${url}`);
  return n;
}

export function parseRelayUrl(url: string): RelayUrl {
  const m = /^(net6?):\/\/(\[[^\]]*\]|[^/:]+)(?::(\d+)(?::(\d+))?)?(\/.*)?$/.exec(url);
  if (m === null) {
    throw new UsageError(`bad relay URL "${url}" (expected net://HOST[:CONTROL_PORT[:DATA_PORT]][/PATH])`);
  }
  const scheme = m[1]!;
  let host = m[2]!;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host === '') throw new UsageError(`relay URL ${url} has no host`);
  const controlPort = m[3] !== undefined ? port(m[3], url) : DEFAULT_CONTROL_PORT;
  const dataPort = m[4] !== undefined ? port(m[4], url) : DEFAULT_DATA_PORT;
  const basePath = (m[5] ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  return { host, controlPort, dataPort, basePath, family: scheme === 'net6' ? 6 : 0 };
}
