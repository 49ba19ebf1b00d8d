#!/usr/bin/env node
// aca's peak memory while copy mode streams a large workspace into a session (issue 12: under 150 MiB for 2 GiB).
// Generates the workspace in a temp dir (removed afterwards), runs `aca run -d --workspace-mode copy`, and samples
// the aca process's VmHWM (peak resident set) from /proc until it exits. Part of `npm run bench`; alone:
// Usage: node bench/copy-memory.mjs [--quick]   (--quick: 256 MiB; needs a local engine and the aca-test/busybox image)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACA, IMAGE, LABEL, QUICK, cleanUp, cleanUpOnSignals, env, progress, sessionName } from './lib.mjs';

const peakKiB = (pid) => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/** The table row: aca's peak RSS while a workspace of totalMiB is copied into a new session. */
export async function copyMemory(totalMiB) {
  const session = sessionName('copy');
  const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-copy-'));
  try {
    progress(`making a ${totalMiB} MiB workspace for copy mode`);
    // 16 MiB files of random bytes, a few small ones beside them.
    const chunk = randomBytes(16 * 1024 * 1024);
    for (let i = 0; i < totalMiB / 16; i++) {
      mkdirSync(join(workspace, `d${i % 8}`), { recursive: true });
      chunk.writeUInt32LE(i, 0);
      writeFileSync(join(workspace, `d${i % 8}`, `f${i}.bin`), chunk);
    }
    for (let i = 0; i < 1000; i++) writeFileSync(join(workspace, `small-${i}.txt`), `file ${i}\n`);
    progress(`copy mode: ${totalMiB} MiB into a session`);
    const started = Date.now();
    const child = spawn(ACA, ['run', '-d', '--name', session, '--label', LABEL, '--workspace-mode', 'copy', '--image', IMAGE], { cwd: workspace, env, stdio: ['ignore', 'ignore', 'inherit'] });
    let peak = 0;
    const timer = setInterval(() => { peak = Math.max(peak, peakKiB(child.pid)); }, 20);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    if (code !== 0 || peak === 0) throw new Error(`aca run --workspace-mode copy exited ${code}`);
    return { name: `copy mode, ${totalMiB} MiB workspace: aca's peak RSS (MiB)`, unit: 'MiB', aca: peak / 1024, target: 150, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cleanUpOnSignals();
  try {
    const row = await copyMemory(QUICK ? 256 : 2048);
    process.stdout.write(`${row.name}: ${row.aca.toFixed(0)} MiB (target <= ${row.target} MiB), ${row.seconds.toFixed(1)} s\n`);
    if (row.aca > row.target) process.exitCode = 1;
  } finally {
    cleanUp();
  }
}
