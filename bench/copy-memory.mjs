#!/usr/bin/env node
// aca's peak memory while copy mode streams a large workspace into a session (issue 12: under 150 MiB for 2 GiB).
// Generates the workspace in a temp dir (removed afterwards), runs `aca run -d --workspace-mode copy`, and samples
// the aca process's VmHWM (peak resident set) from /proc until it exits.
// Usage: node bench/copy-memory.mjs [--quick]   (--quick: 256 MiB; needs a local engine and the aca-test/busybox image)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ACA = fileURLToPath(new URL('../bin/aca', import.meta.url));
const IMAGE = process.env.ACA_BENCH_IMAGE ?? 'aca-test/busybox:latest';
const quick = process.argv.includes('--quick');
const totalMiB = quick ? 256 : 2048;
const TARGET_MIB = 150;
const session = `bench-copy-${process.pid}`;
const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-copy-'));

const peakKiB = (pid) => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

try {
  // 16 MiB files of random bytes, a few small ones beside them.
  const chunk = randomBytes(16 * 1024 * 1024);
  for (let i = 0; i < totalMiB / 16; i++) {
    mkdirSync(join(workspace, `d${i % 8}`), { recursive: true });
    chunk.writeUInt32LE(i, 0);
    writeFileSync(join(workspace, `d${i % 8}`, `f${i}.bin`), chunk);
  }
  for (let i = 0; i < 1000; i++) writeFileSync(join(workspace, `small-${i}.txt`), `file ${i}\n`);
  const started = Date.now();
  const child = spawn(ACA, ['run', '-d', '--name', session, '--label', `acabench=${process.pid}`, '--workspace-mode', 'copy', '--image', IMAGE], { cwd: workspace, stdio: ['ignore', 'ignore', 'inherit'] });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, peakKiB(child.pid)); }, 20);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const peakMiB = peak / 1024;
  const seconds = (Date.now() - started) / 1000;
  const pass = code === 0 && peakMiB > 0 && peakMiB < TARGET_MIB;
  process.stdout.write(`${pass ? 'ok  ' : 'FAIL'}  copy mode: ${totalMiB} MiB workspace into a session`.padEnd(68)
    + ` peak RSS ${peakMiB.toFixed(0)} MiB (target < ${TARGET_MIB} MiB), ${seconds.toFixed(1)} s${code === 0 ? '' : `, aca exited ${code}`}\n`);
  if (!pass) process.exitCode = 1;
} finally {
  spawnSync(ACA, ['rm', '-f', session], { stdio: 'ignore' });
  rmSync(workspace, { recursive: true, force: true });
}
