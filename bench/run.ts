/**
 * `npm run bench`: every benchmark of the repository, each comparing nstrace with its peer tool
 * on the same input in the same run, and a summary of the bars from the issues.
 *
 * Usage: npm run bench [-- NAME...]   (NAME: print, metadata, containers, writer, cputop, spans, filter, record, relayd, analyses, view, sql)
 */
import type { BenchResult } from './measure.js';

type Bench = { name: string; load: () => Promise<{ run: () => Promise<BenchResult> }> };

const BENCHES: Bench[] = [
  { name: 'print', load: () => import('./print.js') },
  { name: 'metadata', load: () => import('./metadata.js') },
  { name: 'filter', load: () => import('./filter.js') },
  { name: 'containers', load: () => import('./containers.js') },
  { name: 'writer', load: () => import('./writer.js') },
  { name: 'cputop', load: () => import('./cputop.js') },
  { name: 'spans', load: () => import('./spans.js') },
  { name: 'analyses', load: () => import('./analyses.js') },
  { name: 'relayd', load: () => import('./relayd.js') },
  { name: 'record', load: () => import('./record.js') },
  { name: 'view', load: () => import('./view.js') },
  { name: 'sql', load: () => import('./sql.js') },
];

async function main(): Promise<void> {
  const want = process.argv.slice(2);
  const selected = want.length > 0 ? BENCHES.filter((b) => want.includes(b.name)) : BENCHES;
  const results: BenchResult[] = [];
  for (const b of selected) {
    process.stderr.write(`\n=== bench ${b.name} ===\n`);
    const mod = await b.load();
    const r = await mod.run();
    results.push(r);
    process.stdout.write(`\n## ${r.title}\n${r.lines.join('\n')}\n`);
  }
  process.stdout.write('\n## Bars\n');
  let ok = true;
  for (const r of results) {
    for (const bar of r.bars) {
      ok &&= bar.pass;
      process.stdout.write(`${bar.pass ? 'PASS' : 'FAIL'}  ${bar.name}: ${bar.value} (bar: ${bar.bar})\n`);
    }
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
