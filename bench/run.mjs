#!/usr/bin/env node
// aca's speed, measured side by side with the docker CLI on this machine, in one run.
// Prints median times and ratios against each target, and writes bench/results/latest.json.
// Usage: npm run bench [-- --runs 21]   (needs a Docker engine and the aca-test/busybox image)
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ACA = fileURLToPath(new URL('../bin/aca.js', import.meta.url));
const IMAGE = process.env.ACA_BENCH_IMAGE ?? 'aca-test/busybox:latest';
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
const WARMUP = 3;
const label = `acabench=${process.pid}`;

function time(cmd, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Alternate the two commands run by run, so drift in machine load hits both alike. */
function compare(name, target, ours, theirs) {
  const a = [];
  const b = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const x = ours();
    const y = theirs();
    if (i >= WARMUP) { a.push(x); b.push(y); }
  }
  const ratio = median(a) / median(b);
  return { name, target, acaMs: median(a), baselineMs: median(b), ratio, pass: ratio <= target };
}

const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-'));
const session = `bench-${process.pid}`;
const container = `acabench-docker-${process.pid}`;
const results = [];
try {
  execFileSync('node', [ACA, 'run', '-d', '--name', session, '--label', label, '--image', IMAGE], { cwd: workspace, stdio: 'ignore' });
  execFileSync('docker', ['run', '-d', '--name', container, '--label', label, '--init', IMAGE, 'sleep', '100000'], { stdio: 'ignore' });

  results.push(compare('aca --version vs node -e 0', 1.3,
    () => time('node', [ACA, '--version']),
    () => time('node', ['-e', '0'])));
  results.push(compare('aca exec SESSION -- true vs docker exec', 2.5,
    () => time('node', [ACA, 'exec', session, '--', 'true']),
    () => time('docker', ['exec', container, 'true'])));
  // For context, not a target: the same engine work with aca's hardened profile, asked of docker directly.
  const hardened = ['run', '--rm', '--label', label, '--init', '--read-only', '--tmpfs', '/tmp', '--tmpfs', '/run', '--tmpfs', '/home/aca',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-m', '4g', '--memory-swap', '4g', '--pids-limit', '1024',
    '--ulimit', 'nofile=8192:16384', '--ipc', 'private', '-v', `${workspace}:/workspace`, IMAGE, 'true'];
  const info = compare('docker run with aca\'s profile vs docker run --rm (context)', Number.POSITIVE_INFINITY,
    () => time('docker', hardened),
    () => time('docker', ['run', '--rm', '--label', label, IMAGE, 'true']));
  results.push(compare('aca run --image IMG -- true vs docker run --rm', 1.3,
    () => time('node', [ACA, 'run', '--label', label, '--image', IMAGE, '--', 'true'], { cwd: workspace }),
    () => time('docker', ['run', '--rm', '--label', label, IMAGE, 'true'])));
  results.push(info);
} finally {
  spawnSync('node', [ACA, 'rm', '-f', session], { stdio: 'ignore' });
  spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
}

const rows = results.map((r) => `${!Number.isFinite(r.target) ? 'info' : r.pass ? 'ok  ' : 'SLOW'}  ${r.name.padEnd(50)} ${r.acaMs.toFixed(0).padStart(5)} ms / ${r.baselineMs.toFixed(0).padStart(5)} ms = ${r.ratio.toFixed(2)}x ${Number.isFinite(r.target) ? `(target <= ${r.target}x)` : '(no target)'}`);
process.stdout.write(`aca benchmark: medians of ${RUNS} runs, interleaved\n${rows.join('\n')}\n`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), runs: RUNS, results }, null, 2)}\n`);

// The monitor's own cost (20 sessions watched at 1 s); its own script, so it can be run alone too.
const monitorCost = spawnSync('node', [fileURLToPath(new URL('./monitor-cost.mjs', import.meta.url))], { stdio: 'inherit' });
if (monitorCost.status !== 0) process.exitCode = 1;
