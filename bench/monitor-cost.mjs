#!/usr/bin/env node
// What watching sessions costs, alone (npm run bench measures it too, over 50 sessions): starts N detached sessions,
// runs `aca monitor --json --interval 1s` on them for a number of samples, and prints the monitor's CPU time over
// wall time as % of one core (target at most 5 %). Everything it starts is removed afterwards, also when interrupted.
// Usage: node bench/monitor-cost.mjs [--sessions 50] [--samples 30]   (Linux, needs the aca-test/busybox image)
import { mkdtempSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUp, cleanUpOnSignals } from './lib.mjs';
import { liveMonitor, parallelStarts } from './scale.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-'));
if (process.getuid?.() === 0) chownSync(workspace, 1000, 1000);
cleanUpOnSignals(() => rmSync(workspace, { recursive: true, force: true }));
try {
  const { kept } = await parallelStarts(arg('--sessions', 50), workspace, 1, { keep: true });
  const row = await liveMonitor(kept, arg('--samples', 30));
  process.stdout.write(`${row.name}: ${row.aca.toFixed(2)} % (target <= ${row.target} %); start-up and first sample ${row.startupCpuSeconds.toFixed(2)} s CPU\n`);
  if (row.aca > row.target) process.exitCode = 1;
} finally {
  cleanUp();
  rmSync(workspace, { recursive: true, force: true });
}
