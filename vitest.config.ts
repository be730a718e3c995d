import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Differential tests start real daemons (lttng-sessiond, dockerd, ...); keep files from
    // fighting over them by running files one after another on the 2-core CI machine.
    fileParallelism: false,
    setupFiles: ['test/setup/stall.ts'],
  },
});
