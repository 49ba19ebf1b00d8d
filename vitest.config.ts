import { defineConfig } from 'vitest/config';

// Every project gets a temporary directory for the run, removed at its end.
// Only engine tests get the engine set-up (it finds the engine, builds the test
// image and removes labelled test objects afterwards): unit tests need no engine
// and change nothing on it.
const tempRoot = 'test/helpers/temp-root.ts';
const engineSetup = [tempRoot, 'test/helpers/global-setup.ts'];
const LAST = ['test/integration/gc.test.ts', 'test/integration/faults.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Engine tests start containers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: [tempRoot] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], exclude: LAST, globalSetup: engineSetup },
      },
      // gc acts on the whole engine, and the fault tests start (and kill) a dockerd of their own, which the
      // remote-engine suite's check for left-over engines would see: both run once everything else has finished.
      {
        extends: true,
        test: { name: 'gc', include: LAST, globalSetup: engineSetup, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
