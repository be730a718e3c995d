// Preloaded into the fuzzer's child processes (`node --import`): at exit, writes the peak
// resident set size (KiB, from getrusage) to $NSTRACE_FUZZ_RSS_FILE.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.NSTRACE_FUZZ_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // nothing to report to
    }
  });
}
