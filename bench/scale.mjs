// The rows about many sessions and big streams: parallel starts, the monitor over many sessions, 512 MiB through
// stdin and stdout, gc of many stopped sessions. Each function returns table rows (see run.mjs); what it starts
// carries the run's label and is removed by it (lib.mjs), also when the run is interrupted.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ACA, IMAGE, LABEL, LABEL_KEY, RUN_ID, acaProfile, env, median, progress, run, sessionName, time } from './lib.mjs';
import { call } from './raw-engine.mjs';

const FLOOR_START = fileURLToPath(new URL('./floor-start.mjs', import.meta.url));
const FLOOR_STATS = fileURLToPath(new URL('./floor-stats.mjs', import.meta.url));
const FLOOR_STREAM = fileURLToPath(new URL('./floor-stream.mjs', import.meta.url));

/** Only the stopped sessions gc is timed on carry it (beside the run's label, for clean-up). */
const GC_LABEL_KEY = 'acabench.gc';
const IDLE = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'];

/** Wall time of N commands started at once, until the last has finished. */
async function together(commands) {
  const start = process.hrtime.bigint();
  const settled = await Promise.allSettled(commands.map(([cmd, args, options]) => run(cmd, args, options)));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return ms;
}

function removeDocker(names) {
  if (names.length === 0) return;
  spawnSync('docker', ['rm', '-f', '-v', ...names], { stdio: 'ignore' });
  spawnSync('docker', ['volume', 'rm', '-f', ...names.map((n) => `${n}-home`)], { stdio: 'ignore' });
}

function removeSessions(names) {
  for (let i = 0; i < names.length; i += 100) spawnSync(ACA, ['rm', '-f', ...names.slice(i, i + 100)], { stdio: 'ignore', env });
}

/**
 * N sessions started at once three ways, in the same rounds: `aca run -d`, N `docker run -d` with aca's profile (its
 * home volume too), and the floor, N Node processes each making aca's engine calls for `run -d` and nothing else
 * (floor-start.mjs). Both rows share the docker figures, so drift in the machine's load between rows cannot make
 * aca look closer to or further from its floor than it is. The order rotates, each way taking each place once in
 * three rounds; the last round ends with aca, whose sessions are kept for the monitor rows when asked.
 */
export async function parallelStarts(n, workspace, rounds, { keep = false } = {}) {
  const aca = [];
  const docker = [];
  const floor = [];
  let kept = [];
  for (let r = 0; r < rounds; r++) {
    const ways = {
      docker: async () => {
        const names = Array.from({ length: n }, (_, i) => `acabench-${RUN_ID}-d${n}r${r}s${i}`);
        try {
          docker.push(await together(names.map((name) => ['docker', ['run', '-d', '--name', name, ...acaProfile(workspace, { home: `${name}-home` }), IMAGE, ...IDLE]])));
        } finally {
          removeDocker(names);
        }
      },
      floor: async () => {
        const names = Array.from({ length: n }, (_, i) => `acabench-${RUN_ID}-f${n}r${r}s${i}`);
        try {
          floor.push(await together(names.map((name) => ['node', [FLOOR_START, IMAGE, workspace, LABEL, name]])));
        } finally {
          removeDocker(names.map((name) => `aca-${name}`));
        }
      },
      aca: async () => {
        const names = Array.from({ length: n }, (_, i) => sessionName(`p${n}r${r}s${i}`));
        aca.push(await together(names.map((name) => [ACA, ['run', '-d', '--name', name, '--label', LABEL, '--image', IMAGE], { cwd: workspace }])));
        if (keep && r === rounds - 1) kept = names;
        else removeSessions(names);
      },
    };
    const order = ['docker', 'floor', 'aca'];
    const shift = (rounds - 1 - r) % order.length;
    progress(`${n} sessions at once, round ${r + 1} of ${rounds}`);
    for (const way of [...order.slice(shift), ...order.slice(0, shift)]) await ways[way]();
  }
  return {
    rows: [
      ratioRow(`${n} sessions started at once: aca run -d vs docker run -d, aca's profile`, 1.3, aca, docker),
      ratioRow(`floor: ${n} Node processes making aca's engine calls for run -d vs docker run -d`, undefined, floor, docker),
    ],
    kept,
  };
}

/**
 * One sample of N sessions: `aca monitor --once --json` against `docker stats --no-stream` on the same containers,
 * and the least a Node program needs for it (floor-stats.mjs) as a context row.
 */
export async function monitorOnce(names, runs) {
  progress(`monitor --once over ${names.length} sessions`);
  const aca = [];
  const docker = [];
  const floor = [];
  for (let i = 0; i < runs; i++) {
    const a = async () => aca.push(await time(ACA, ['monitor', '--once', '--json', ...names]));
    const d = async () => docker.push(await time('docker', ['stats', '--no-stream', ...names.map((n) => `aca-${n}`)]));
    const f = async () => floor.push(await time('node', [FLOOR_STATS, ...names]));
    if (i % 2 === 0) { await a(); await d(); await f(); } else { await f(); await d(); await a(); }
  }
  return [
    ratioRow(`aca monitor --once over ${names.length} sessions vs docker stats --no-stream`, 1.0, aca, docker),
    ratioRow(`floor: Node, one list and ${names.length} stats calls vs docker stats --no-stream`, undefined, floor, docker),
  ];
}

const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/**
 * What watching costs: `aca monitor --json --interval 1s` over the sessions for a number of samples; its CPU time
 * (from /proc) over wall time, as % of one core, from the first full sample to the last (start-up apart).
 */
export async function liveMonitor(names, samples) {
  progress(`live monitor over ${names.length} sessions, ${samples} samples at 1 s`);
  const monitor = spawn(ACA, ['monitor', '--json', '--interval', '1s', '--count', String(samples), ...names], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, NO_COLOR: '1' } });
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
    if (!first && lines >= names.length) first = reading;
    if (lines >= names.length * samples) last = reading;
  });
  const code = await new Promise((resolve) => monitor.on('exit', resolve));
  if (code !== 0 || !first || !last) throw new Error(`aca monitor failed (${code}, ${lines} lines): ${stderr}`);
  const percent = ((last.cpu - first.cpu) / (Number(last.at - first.at) / 1e9)) * 100;
  return { name: `live aca monitor over ${names.length} sessions at 1 s (% of one core)`, unit: '%', aca: percent, target: 5, startupCpuSeconds: first.cpu };
}

/** MiB through a session's stdin (counted by wc -c inside) and out of its stdout, aca against docker with aca's profile. */
export async function streams(workspace, mib, runs) {
  const bytes = mib * 1024 * 1024;
  const feed = (command) => ['-c', `head -c ${bytes} /dev/zero | ${command} >/dev/null`];
  const quote = (args) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const dockerRun = (extra, cmd) => quote(['docker', 'run', '--rm', ...extra, ...acaProfile(workspace), IMAGE, ...cmd]);
  const acaRun = (extra, cmd) => quote([ACA, 'run', ...extra, '--label', LABEL, '--image', IMAGE, '--', ...cmd]);
  // The floor: a Node program making aca's engine calls and copying the stream itself (floor-stream.mjs).
  const floorRun = (direction) => quote(['node', FLOOR_STREAM, direction, IMAGE, workspace, LABEL, String(bytes)]);
  const rows = [];
  for (const [what, ours, theirs, floor] of [
    ['through stdin', feed(acaRun(['-i'], ['wc', '-c'])), feed(dockerRun(['-i'], ['wc', '-c'])), feed(floorRun('in'))],
    ['out of stdout', ['-c', `${acaRun([], ['head', '-c', String(bytes), '/dev/zero'])} >/dev/null`], ['-c', `${dockerRun([], ['head', '-c', String(bytes), '/dev/zero'])} >/dev/null`], ['-c', `${floorRun('out')} >/dev/null`]],
  ]) {
    progress(`${mib} MiB ${what}`);
    const aca = [];
    const docker = [];
    const least = [];
    for (let i = 0; i < runs; i++) {
      const a = async () => aca.push(await time('sh', ours, { cwd: workspace }));
      const d = async () => docker.push(await time('sh', theirs, { cwd: workspace }));
      const f = async () => least.push(await time('sh', floor, { cwd: workspace }));
      if (i % 2 === 0) { await a(); await d(); await f(); } else { await f(); await d(); await a(); }
    }
    rows.push(ratioRow(`${mib} MiB ${what}: aca run vs docker run, aca's profile`, 1.05, aca, docker));
    rows.push(ratioRow(`floor: Node, aca's engine calls for ${mib} MiB ${what} vs docker run, aca's profile`, undefined, least, docker));
  }
  return rows;
}

/**
 * gc of N stopped sessions: containers made straight through the API with the labels of a stopped aca session
 * (making them with aca run would take longer than the whole benchmark), then `aca gc --label` of this run's label.
 */
export async function gcStopped(count) {
  progress(`making ${count} stopped sessions for gc`);
  const make = async (i) => {
    const session = `acabench-${RUN_ID}-g${i}`;
    await call('POST', `/containers/create?name=aca-${session}`, {
      Image: IMAGE, Cmd: ['true'], Labels: { 'aca.managed': 'true', 'aca.session': session, [LABEL_KEY]: RUN_ID, [GC_LABEL_KEY]: RUN_ID },
    });
  };
  for (let i = 0; i < count; i += 16) await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => make(i + j)));
  const scope = `${GC_LABEL_KEY}=${RUN_ID}`;
  const made = execFileSync('docker', ['ps', '-aq', '--filter', `label=${scope}`]).toString().split('\n').filter(Boolean).length;
  if (made < count) throw new Error(`only ${made} of ${count} stopped sessions were made`);
  progress(`aca gc of ${count} stopped sessions`);
  const ms = await time(ACA, ['gc', '--label', scope]);
  const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=${scope}`]).toString().split('\n').filter(Boolean).length;
  if (left > 0) throw new Error(`aca gc left ${left} of the ${count} stopped sessions`);
  return { name: `aca gc of ${count} stopped sessions (s)`, unit: 's', aca: ms / 1000, target: 30 };
}

export function ratioRow(name, target, aca, docker) {
  const acaMs = median(aca);
  const dockerMs = median(docker);
  return { name, unit: 'ms', aca: acaMs, docker: dockerMs, ratio: acaMs / dockerMs, target, runs: aca.length };
}
