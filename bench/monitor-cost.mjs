#!/usr/bin/env node
// What watching sessions costs: starts 20 detached sessions, runs `aca monitor --json --interval 1s` on them for a
// fixed number of samples, and reports the monitor process's CPU time (from /proc/<pid>/stat) over wall time, as %
// of one core. The target is at most 5 %. Steady state is measured from the first full sample to the last, so
// Node's start-up is reported apart. Every session is labelled and removed afterwards, also on failure.
// Usage: node bench/monitor-cost.mjs [--sessions 20] [--samples 30]   (Linux, needs the aca-test/busybox image)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ACA = fileURLToPath(new URL('../bin/aca', import.meta.url));
const IMAGE = process.env.ACA_BENCH_IMAGE ?? 'aca-test/busybox:latest';
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SESSIONS = arg('--sessions', 20);
const SAMPLES = arg('--samples', 30);
const TARGET_PERCENT = 5;
const label = `acabench-monitor=${process.pid}`;
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function removeSessions() {
  // aca rm removes each session with its home volume and network; what a failed start left, by label, after.
  spawnSync(ACA, ['rm', '-f', ...names], { stdio: 'ignore' });
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${label}`]).toString().split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  // Networks aca may have made for these sessions carry the same label.
  const networks = execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=${label}`]).toString().split('\n').filter(Boolean);
  if (networks.length) spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
}

const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-'));
const names = Array.from({ length: SESSIONS }, (_, i) => `monbench-${process.pid}-${i}`);
let result;
try {
  // A few at a time: the engine, not aca, is the bottleneck when starting containers.
  for (let i = 0; i < names.length; i += 5) {
    // allSettled: every start has finished before a failure is thrown, so cleanup sees them all.
    const started = await Promise.allSettled(names.slice(i, i + 5).map((name) => new Promise((resolve, reject) => {
      // The plain bridge: per-session networks would measure the engine's network set-up, not the monitor.
      const child = spawn(ACA, ['run', '-d', '--name', name, '--label', label, '--network', 'bridge', '--image', IMAGE], { cwd: workspace, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c) => { stderr += c; });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`aca run -d ${name} failed (${code}): ${stderr}`))));
    })));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  const wallStart = process.hrtime.bigint();
  const monitor = spawn(ACA, ['monitor', '--json', '--interval', '1s', '--count', String(SAMPLES), ...names], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let lines = 0;
  let buffered = '';
  let first;
  let last;
  let stderr = '';
  monitor.stderr.on('data', (c) => { stderr += c; });
  monitor.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    lines += parts.filter(Boolean).length;
    // One full sample is one line per session; read the counters while the process still exists.
    const reading = { cpu: cpuSeconds(monitor.pid), at: process.hrtime.bigint() };
    if (!first && lines >= SESSIONS) first = reading;
    if (lines >= SESSIONS * SAMPLES) last = reading;
  });
  const code = await new Promise((resolve) => monitor.on('exit', resolve));
  const wallTotal = Number(process.hrtime.bigint() - wallStart) / 1e9;
  if (code !== 0 || !first || !last) throw new Error(`aca monitor failed (${code}, ${lines} lines): ${stderr}`);
  const steadyWall = Number(last.at - first.at) / 1e9;
  const steadyPercent = ((last.cpu - first.cpu) / steadyWall) * 100;
  result = {
    date: new Date().toISOString(),
    sessions: SESSIONS,
    samples: SAMPLES,
    intervalSeconds: 1,
    lines,
    steadyCpuSeconds: last.cpu - first.cpu,
    steadyWallSeconds: steadyWall,
    steadyPercentOfOneCore: steadyPercent,
    startupCpuSeconds: first.cpu,
    totalWallSeconds: wallTotal,
    target: TARGET_PERCENT,
    pass: steadyPercent <= TARGET_PERCENT,
  };
} finally {
  removeSessions();
  rmSync(workspace, { recursive: true, force: true });
}

process.stdout.write(
  `aca monitor cost: ${SESSIONS} sessions, ${SAMPLES} samples at 1s\n`
  + `${result.pass ? 'ok  ' : 'SLOW'}  steady state ${result.steadyPercentOfOneCore.toFixed(2)}% of one core `
  + `(${result.steadyCpuSeconds.toFixed(2)} s CPU in ${result.steadyWallSeconds.toFixed(1)} s; target <= ${TARGET_PERCENT}%); `
  + `start-up and first sample ${result.startupCpuSeconds.toFixed(2)} s CPU\n`,
);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/monitor-cost.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
if (!result.pass) process.exitCode = 1;
