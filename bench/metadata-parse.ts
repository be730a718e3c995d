/**
 * Helper process of the metadata benchmark: reads and parses one metadata file `N` times and
 * prints, as JSON, the time of the first parse (cold: what one CLI run pays) and the median of
 * the others (warm).
 *
 * Usage: node dist-bench/bench/metadata-parse.js METADATA [N]
 */
import { readMetadataFile } from '../src/ctf/metadata/index.js';

const file = process.argv[2]!;
const n = Math.max(1, Number(process.argv[3] ?? 1));
const times: number[] = [];
let events = 0;
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const { cls } = readMetadataFile(file);
  times.push(performance.now() - t0);
  if (i === 0) for (const s of cls.streamClasses.values()) events += s.eventClasses.size;
}
const warm = times.slice(1).sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    events,
    firstMs: times[0],
    warmMedianMs: warm.length > 0 ? warm[warm.length >> 1] : null,
  }) + '\n',
);
