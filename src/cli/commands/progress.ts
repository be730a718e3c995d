/**
 * What the commands that read traces do around the reading: a progress bar on stderr, Ctrl-C
 * aborting the read; and, for those that serve until stopped, waiting for Ctrl-C or SIGTERM.
 */
import cliProgress from 'cli-progress';

/** A progress bar on a TTY, nothing otherwise. */
export function progressReporter(enabled: boolean): {
  update: (done: number, total: number) => void;
  stop: () => void;
} {
  if (!enabled || process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'reading [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta}s',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
      if (!started) {
        bar.start(mib(total), 0);
        started = true;
      }
      bar.update(mib(done));
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * Runs `work` with a progress bar (when `enabled`, see `progressReporter`) and Ctrl-C aborting
 * it through `signal`; the bar and the Ctrl-C handler are gone when it settles.
 */
export async function withProgress<T>(
  enabled: boolean,
  work: (onProgress: (done: number, total: number) => void, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  const progress = progressReporter(enabled);
  try {
    return await work(progress.update, ac.signal);
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

/** Resolves at the first SIGINT or SIGTERM (the handlers are removed again then). */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
