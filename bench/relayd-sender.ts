/**
 * The sending side of the relay benchmark, run as its own process so that its CPU time is not
 * counted against the relay: replays a trace directory through `RelayClient` REPEAT times and
 * prints `{"bytes","packets","seconds"}` (seconds: from the session's creation until the relay
 * says every packet and index is in).
 *
 * usage: node relayd-sender.js URL TRACE_DIR REPEAT [SESSION_NAME]
 */
import { RelayClient } from '../src/relay/client.js';
import { replayTrace } from '../src/relay/replay.js';

const [url, trace, repeat, name] = process.argv.slice(2);
if (url === undefined || trace === undefined) {
  process.stderr.write('usage: relayd-sender URL TRACE_DIR [REPEAT [SESSION_NAME]]\n');
  process.exit(2);
}
const t0 = process.hrtime.bigint();
const c = await RelayClient.connect(url, { hostname: 'benchhost', sessionName: name ?? 'bench' });
const r = await replayTrace(c, trace, { repeat: Number(repeat ?? 1), trimPadding: true });
await c.close();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  `${JSON.stringify({ bytes: r.bytes, packets: r.packets, seconds, outputPath: c.outputPath })}\n`,
);
