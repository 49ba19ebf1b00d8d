import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Engine tests start containers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'aca', include: ['test/**/*.test.ts'], exclude: ['test/integration/gc.test.ts'] } },
      // gc acts on the whole engine: it runs once everything else has finished.
      { extends: true, test: { name: 'gc', include: ['test/integration/gc.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
