// What every part of the benchmark shares: the environment commands run in, timing, medians, aca's profile as docker
// flags, and the clean-up of everything one bench run created (by its label, also when interrupted).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ACA = fileURLToPath(new URL('../bin/aca', import.meta.url));
export const IMAGE = process.env.ACA_BENCH_IMAGE ?? 'aca-test/busybox:latest';
export const QUICK = process.argv.includes('--quick');

/** Every container, volume and network this bench run makes carries it; clean-up removes by it and by nothing else. */
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
export const LABEL_KEY = 'acabench';
export const LABEL = `${LABEL_KEY}=${RUN_ID}`;

// Node 20 parses every certificate named by NODE_EXTRA_CA_CERTS before it runs any code (about 70 ms here);
// bin/aca spares aca that, a bare `node` cannot. With NODE_EXTRA_CA_CERTS or SSL_CERT_FILE set, aca also copies the
// host's CA bundle into each session, which docker does not do. The targets are measured without both, for every
// command alike, so that no ratio owes anything to them; context rows show what they cost.
export const HOST_ENV = process.env;
export const env = { ...process.env, ACA_ISOLATION: 'container' }; // the docker baselines use runc; gVisor has its own rows
delete env.NODE_EXTRA_CA_CERTS;
delete env.SSL_CERT_FILE;

/** Commands running now: stopped first when the run is interrupted. */
const children = new Set();

/** Run a command to its end without blocking the event loop (so Ctrl-C is handled at once); rejects with its stderr when it fails. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env, ...options });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed (${code ?? signal}): ${stderr.trim()}`));
    });
  });
}

/** Wall time of one command, in ms; it must succeed. */
export async function time(cmd, args, options = {}) {
  const start = process.hrtime.bigint();
  await run(cmd, args, options);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Progress goes to stderr; stdout is the table. */
export const progress = (line) => process.stderr.write(`bench: ${line}\n`);

/**
 * aca's profile for a session, as docker run flags: what `aca run` asks of the engine (see src/sessions/spec.ts),
 * on the shared aca-isolated network, the workspace bound at /workspace, run as the session user. `home` adds the
 * named home volume a detached session gets.
 */
export function acaProfile(workspace, { home } = {}) {
  return ['--label', LABEL, '--init', '--read-only',
    '--tmpfs', '/tmp:rw,nosuid,nodev,exec,size=858993459,mode=1777', '--tmpfs', '/run:rw,nosuid,nodev,noexec,size=67108864,mode=0755',
    ...(home ? ['--mount', `type=volume,src=${home},dst=/home/aca,volume-label=${LABEL}`] : ['--tmpfs', '/home/aca:rw,nosuid,nodev,exec,size=858993459']),
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-m', '4g', '--memory-swap', '4g', '--pids-limit', '1024',
    '--cpus', '2', '--cpu-shares', '512', '--ulimit', 'nofile=8192:16384', '--ulimit', 'nproc=8192:8192',
    '--ipc', 'private', '--cgroupns', 'private', '--network', 'aca-isolated', '-v', `${workspace}:/workspace`, '-w', '/workspace',
    '--user', '1000:1000'];
}

const lines = (out) => out.toString().split('\n').filter(Boolean);
const sessionNames = new Set();

/** A session name aca will make in this run; clean-up removes it with `aca rm` (its volumes and network too). */
export function sessionName(suffix) {
  const name = `acabench-${RUN_ID}-${suffix}`;
  sessionNames.add(name);
  return name;
}

/** Remove what this run made: aca's sessions through aca, then whatever carries the run's label. Synchronous, so a signal handler can run it. */
export function cleanUp() {
  const names = [...sessionNames];
  for (let i = 0; i < names.length; i += 100) spawnSync(ACA, ['rm', '-f', ...names.slice(i, i + 100)], { stdio: 'ignore', env });
  sessionNames.clear();
  sweep();
}

/** What carries the run's label: containers, then the volumes and networks they held. */
export function sweep() {
  const list = (args) => { try { return lines(execFileSync('docker', args)); } catch { return []; } };
  const remove = (cmd, ids) => { for (let i = 0; i < ids.length; i += 100) spawnSync('docker', [...cmd, ...ids.slice(i, i + 100)], { stdio: 'ignore' }); };
  remove(['rm', '-f', '-v'], list(['ps', '-aq', '--filter', `label=${LABEL}`]));
  remove(['volume', 'rm', '-f'], list(['volume', 'ls', '-q', '--filter', `label=${LABEL}`]));
  remove(['network', 'rm'], list(['network', 'ls', '-q', '--filter', `label=${LABEL}`]));
}

/** Clean up on Ctrl-C and on termination too, then end as the signal would have. */
export function cleanUpOnSignals(extra = () => {}) {
  let done = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => {
      if (done) return;
      done = true;
      progress(`${signal}: removing what this run created (label ${LABEL})`);
      for (const child of children) child.kill('SIGTERM');
      try { extra(); } finally { cleanUp(); process.exit(code); }
    });
  }
}
