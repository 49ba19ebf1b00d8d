#!/usr/bin/env node
// aca's speed, measured side by side with the docker CLI doing the same engine work, on this machine, in one run.
// Prints one Markdown table on stdout (every target of issue 16, and context rows: the floors no client can beat,
// what gVisor and the host's CA bundle cost), progress on stderr, and writes bench/results/latest.json.
// Usage: npm run bench [-- --quick] [-- --runs N] [-- --only PART,...]   (needs a Docker engine and the aca-test/busybox image)
// PARTs: single (run, exec and their context rows), scale (parallel starts and monitor), streams, gc, copy, gvisor.
// Everything it creates carries the label acabench=<run id> and is removed at the end, also on Ctrl-C or SIGTERM.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACA, HOST_ENV, IMAGE, LABEL, QUICK, RUN_ID, acaProfile, cleanUp, cleanUpOnSignals, env, progress, sessionName, time } from './lib.mjs';
import { gcStopped, liveMonitor, monitorOnce, parallelStarts, ratioRow, streams } from './scale.mjs';
import { copyMemory } from './copy-memory.mjs';

const FLOOR_EXEC = fileURLToPath(new URL('./floor-exec.mjs', import.meta.url));
const FLOOR_RUN = fileURLToPath(new URL('./floor-run.mjs', import.meta.url));
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : QUICK ? 3 : 11;
const WARMUP = QUICK ? 1 : 2;
/** The gVisor rows are context, and their differences large: fewer runs keep the full pass within 15 minutes. */
const GVISOR_RUNS = Math.min(RUNS, 5);
const SCALE = QUICK
  ? { rounds: 1, monitorRuns: 1, samples: 8, streamMiB: 128, streamRuns: 1, gc: 200, copyMiB: 256 }
  : { rounds: 5, monitorRuns: 5, samples: 20, streamMiB: 512, streamRuns: 3, gc: 1000, copyMiB: 2048 };
const CONTEXT = undefined;
const PARTS = ['single', 'scale', 'streams', 'gc', 'copy', 'gvisor'];
const onlyFlag = process.argv.indexOf('--only');
const ONLY = onlyFlag > 0 ? process.argv[onlyFlag + 1].split(',') : PARTS;
for (const part of ONLY) {
  if (!PARTS.includes(part)) {
    process.stderr.write(`bench: --only ${part}: no such part (one of: ${PARTS.join(', ')})\n`);
    process.exit(2);
  }
}
const wants = (part) => ONLY.includes(part);
const began = Date.now();

/** Alternate the two commands run by run, so drift in machine load hits both alike; medians of RUNS after WARMUP. */
async function compare(name, target, ours, theirs, runs = RUNS) {
  progress(name);
  const a = [];
  const b = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const x = await ours();
    const y = await theirs();
    if (i >= WARMUP) { a.push(x); b.push(y); }
  }
  return ratioRow(name, target, a, b);
}

const workspace = mkdtempSync(join(tmpdir(), 'aca-bench-'));
// Run as root, aca copies a root-owned workspace in (copy mode); docker binds it. Owned by a user, both bind it.
if (process.getuid?.() === 0) chownSync(workspace, 1000, 1000);
cleanUpOnSignals(() => rmSync(workspace, { recursive: true, force: true }));
const rows = [];
try {
  const session = sessionName('exec');
  const container = `acabench-${RUN_ID}-docker`;
  execFileSync(ACA, ['run', '-d', '--name', session, '--label', LABEL, '--image', IMAGE], { cwd: workspace, stdio: 'ignore', env });
  execFileSync('docker', ['run', '-d', '--name', container, ...acaProfile(workspace), IMAGE, 'sleep', '1000000'], { stdio: 'ignore' });
  const profileRun = () => time('docker', ['run', '--rm', ...acaProfile(workspace), IMAGE, 'true']);
  const plainRun = () => time('docker', ['run', '--rm', '--label', LABEL, IMAGE, 'true']);
  const acaRun = (options = {}) => () => time(ACA, ['run', '--label', LABEL, '--image', IMAGE, '--', 'true'], { cwd: workspace, ...options });

  if (wants('single')) await singleRows();

  async function singleRows() {
    rows.push(await compare('aca run --image IMG -- true vs docker run, aca\'s profile', 1.15, acaRun(), profileRun));
    rows.push(await compare('aca exec SESSION -- true vs docker exec', 2.0,
      () => time(ACA, ['exec', session, '--', 'true']),
      () => time('docker', ['exec', container, 'true'])));
    // Context: what no client can win back. The least any Node program can do (bench/floor-*.mjs: Node's start-up
    // plus aca's API calls over raw sockets), and what aca's profile costs the engine over a plain run.
    rows.push(await compare('floor: Node, aca\'s engine calls for run vs docker run, aca\'s profile', CONTEXT,
      () => time('node', [FLOOR_RUN, IMAGE, workspace, LABEL]), profileRun));
    rows.push(await compare('floor: Node, aca\'s engine calls for exec vs docker exec', CONTEXT,
      () => time('node', [FLOOR_EXEC, `aca-${session}`]),
      () => time('docker', ['exec', container, 'true'])));
    rows.push(await compare('docker run, aca\'s profile vs docker run --rm', CONTEXT, profileRun, plainRun));
    rows.push(await compare('aca --version vs node -e 0', CONTEXT, () => time(ACA, ['--version']), () => time('node', ['-e', '0'])));
    if (HOST_ENV.NODE_EXTRA_CA_CERTS || HOST_ENV.SSL_CERT_FILE) {
      // The host's CA bundle is copied into every session (an exec after the start); docker does no such thing.
      rows.push(await compare('aca run with vs without the host\'s CA variables', CONTEXT, acaRun({ env: { ...HOST_ENV, ACA_ISOLATION: 'container' } }), acaRun()));
    }
  }

  // A part that fails is a row that says so; the others still run.
  const attempt = async (name, part) => {
    try {
      return await part();
    } catch (error) {
      progress(`${name} failed: ${error.message}`);
      rows.push({ name, failed: error.message.split('\n')[0] });
      return undefined;
    }
  };
  for (const n of wants('scale') ? [20, 50] : []) {
    const started = await attempt(`${n} sessions started at once`, () => parallelStarts(n, workspace, SCALE.rounds, { keep: n === 50 }));
    if (!started) continue;
    rows.push(...started.rows);
    if (started.kept.length > 0) {
      await attempt('aca monitor --once over 20 sessions', async () => rows.push(...await monitorOnce(started.kept.slice(0, 20), SCALE.monitorRuns)));
      await attempt('aca monitor --once over 50 sessions', async () => rows.push(...await monitorOnce(started.kept, SCALE.monitorRuns)));
      await attempt('live aca monitor over 50 sessions', async () => rows.push(await liveMonitor(started.kept, SCALE.samples)));
      spawnSync(ACA, ['rm', '-f', ...started.kept], { stdio: 'ignore', env });
    }
  }
  if (wants('streams')) await attempt(`${SCALE.streamMiB} MiB through stdin and out of stdout`, async () => rows.push(...await streams(workspace, SCALE.streamMiB, SCALE.streamRuns)));
  if (wants('gc')) await attempt(`aca gc of ${SCALE.gc} stopped sessions`, async () => rows.push(await gcStopped(SCALE.gc)));
  if (wants('copy')) await attempt(`copy mode, ${SCALE.copyMiB} MiB workspace`, async () => rows.push(await copyMemory(SCALE.copyMiB)));
  if (wants('gvisor')) await gvisorRows(session);
} finally {
  cleanUp();
  rmSync(workspace, { recursive: true, force: true });
}

/**
 * What gVisor costs (context rows): the same aca commands under --isolation gvisor against container, and a
 * syscall-heavy command (20,000 4 KiB reads and writes, then a file-tree walk) exec'd in each. Skipped where the
 * engine does not offer gVisor.
 */
async function gvisorRows(session) {
  const runtimes = JSON.parse(execFileSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8' }));
  if (!Object.keys(runtimes).some((name) => name === 'runsc')) {
    progress('gVisor rows skipped: Docker does not offer runsc (aca doctor shows the steps)');
    return;
  }
  const gv = sessionName('gvisor');
  execFileSync(ACA, ['run', '-d', '--isolation', 'gvisor', '--name', gv, '--label', LABEL, '--image', IMAGE], { cwd: workspace, stdio: 'ignore', env });
  rows.push(await compare('gVisor: aca run --isolation gvisor vs container', CONTEXT,
    () => time(ACA, ['run', '--isolation', 'gvisor', '--label', LABEL, '--image', IMAGE, '--', 'true'], { cwd: workspace }),
    () => time(ACA, ['run', '--isolation', 'container', '--label', LABEL, '--image', IMAGE, '--', 'true'], { cwd: workspace }), GVISOR_RUNS));
  rows.push(await compare('gVisor: aca exec in a gvisor vs a container session', CONTEXT,
    () => time(ACA, ['exec', gv, '--', 'true']),
    () => time(ACA, ['exec', session, '--', 'true']), GVISOR_RUNS));
  const heavy = ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=4k count=20000 2>/dev/null; find / -xdev >/dev/null 2>&1; true'];
  rows.push(await compare('gVisor: syscall-heavy exec (dd + find), gvisor vs container', CONTEXT,
    () => time(ACA, ['exec', gv, '--', ...heavy]),
    () => time(ACA, ['exec', session, '--', ...heavy]), GVISOR_RUNS));
}

const UNITS = { ms: (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`), '%': (v) => `${v.toFixed(1)} %`, s: (v) => `${v.toFixed(1)} s`, MiB: (v) => `${v.toFixed(0)} MiB` };
const met = (r) => (r.failed ? `failed: ${r.failed}` : r.target === undefined ? 'context' : (r.ratio ?? r.aca) <= r.target ? 'met' : 'missed');
const cells = (r) => r.failed ? [r.name, '', '', '', '', met(r)] : [
  r.name,
  r.docker === undefined ? '—' : UNITS[r.unit](r.docker),
  UNITS[r.unit](r.aca),
  r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
  r.target === undefined ? '' : r.ratio !== undefined ? `≤ ${r.target}×` : `≤ ${r.target} ${r.unit}`,
  met(r),
];
const seconds = (Date.now() - began) / 1000;
const table = [
  ['measure', 'docker', 'aca', 'ratio', 'target', 'result'],
  ['---', '--:', '--:', '--:', '--:', '---'],
  ...rows.map(cells),
].map((c) => `| ${c.join(' | ')} |`);
process.stdout.write(`aca benchmark${QUICK ? ' (--quick)' : ''}, ${new Date().toISOString().slice(0, 16)}Z: medians of ${RUNS} interleaved runs `
  + `(scale rows: ${SCALE.rounds}), ${IMAGE}, ${Math.round(seconds)} s in all\n\n${table.join('\n')}\n`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), quick: QUICK, runs: RUNS, seconds, rows }, null, 2)}\n`);
if (rows.some((r) => met(r) === 'missed')) process.exitCode = 1;
