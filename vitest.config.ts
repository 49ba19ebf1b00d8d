import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Engine tests start containers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
