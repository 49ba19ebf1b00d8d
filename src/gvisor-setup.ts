/**
 * gVisor on this machine: whether the engine offers it, the exact steps to set it up, and `aca doctor --fix`,
 * which performs them as root on Debian/Ubuntu after saying what it will change.
 *
 * Why runsc gets `--network=host`: Debian's runsc (0.0~20221219) decides it was started in the host's root
 * network namespace by looking for /proc/sys/net/core/rmem_default, which only the root namespace had before
 * Linux 6.x; on newer kernels every namespace has it, so the default `--network=sandbox` refuses to start
 * ("cannot run with network enabled in root network namespace") although the engine made a fresh namespace.
 * With `--network=host`, runsc uses that namespace (still private to the session) through the host kernel's
 * network stack instead of gVisor's own netstack: the session's network is as isolated as with runc, and the
 * syscall surface gVisor removes is everything but networking. Newer gVisor releases fix the check.
 * `--platform=ptrace` works everywhere, including inside VMs without nested KVM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Context } from './context.js';
import { type Engine, type EngineSystemInfo, usableGvisorRuntime } from './engine/index.js';
import { AcaError, UsageError } from './errors.js';

export const RUNSC = '/usr/bin/runsc';
export const RUNSC_ARGS = ['--platform=ptrace', '--network=host'];
const DOCKER_DAEMON_JSON = '/etc/docker/daemon.json';
/** Podman's containers.conf has no per-runtime arguments: a wrapper passes them. */
const PODMAN_WRAPPER = '/usr/local/libexec/aca/runsc';
const PODMAN_DROP_IN = '/etc/containers/containers.conf.d/50-aca-gvisor.conf';

export interface GvisorStatus {
  installed: boolean;
  /** The runtime name the engine offers gVisor under. */
  registered: string | undefined;
  runtimeArgs: string[];
  steps: string[];
}

export function gvisorSteps(kind: string): string[] {
  const install = 'apt-get install -y runsc';
  if (kind === 'podman') {
    return [
      install,
      `printf '#!/bin/sh\\nexec ${RUNSC} ${RUNSC_ARGS.join(' ')} "$@"\\n' > ${PODMAN_WRAPPER} && chmod 755 ${PODMAN_WRAPPER}`,
      `printf '[engine.runtimes]\\nrunsc = ["${PODMAN_WRAPPER}"]\\n' > ${PODMAN_DROP_IN}`,
      'restart the Podman service (systemctl restart podman.socket, or the podman system service you started)',
    ];
  }
  return [
    install,
    `add to ${DOCKER_DAEMON_JSON}: {"runtimes": {"runsc": {"path": "${RUNSC}", "runtimeArgs": ${JSON.stringify(RUNSC_ARGS)}}}}`,
    'reload dockerd: kill -HUP $(cat /var/run/docker.pid) (or systemctl reload docker)',
  ];
}

export function gvisorStatus(kind: string, info: EngineSystemInfo, local: boolean): GvisorStatus {
  const registered = usableGvisorRuntime(info, local);
  const runtime = registered ? (info.Runtimes?.[registered] as { runtimeArgs?: string[] } | undefined) : undefined;
  return { installed: existsSync(RUNSC), registered: kind === 'podman' && !podmanWrapperRegistered() ? undefined : registered, runtimeArgs: runtime?.runtimeArgs ?? [], steps: gvisorSteps(kind) };
}

function podmanWrapperRegistered(): boolean {
  try {
    return readFileSync(PODMAN_DROP_IN, 'utf8').includes(PODMAN_WRAPPER) && existsSync(PODMAN_WRAPPER);
  } catch {
    return false;
  }
}

/** The doctor's line about gVisor: optional, so never a failure. */
export function gvisorCheck(kind: string, info: EngineSystemInfo, local: boolean) {
  const status = gvisorStatus(kind, info, local);
  const data = { installed: status.installed, registered: status.registered ?? null, runtimeArgs: status.runtimeArgs, steps: status.steps };
  if (status.registered) {
    // Podman 4.3's Docker-compatible API creates on its default runtime whatever a container asks for: aca run refuses then.
    const auto = kind === 'podman' ? 'only --isolation gvisor asks for it, and aca run refuses the session if Podman creates it on another runtime' : 'sessions use it by default (isolation auto)';
    return { name: 'gvisor', status: 'ok' as const, detail: `registered as runtime ${status.registered}${status.runtimeArgs.length ? ` (${status.runtimeArgs.join(' ')})` : ''}; ${auto}`, data };
  }
  return {
    name: 'gvisor',
    status: 'warn' as const,
    detail: `${status.installed ? 'runsc is installed but not registered with' : 'not installed for'} this ${kind} engine: sessions share the host's kernel (isolation container)`,
    hint: `${status.steps.join('; ')}${local && process.getuid?.() === 0 ? '. aca doctor --fix does this.' : ''}`,
    data,
  };
}

function say(ctx: Context, line: string): void {
  ctx.out.info(`aca doctor --fix: ${line}`);
}

/** Replace a file in one rename, keeping the old one beside it. */
function replaceFile(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) writeFileSync(`${path}.aca-backup`, readFileSync(path), { mode });
  writeFileSync(`${path}.aca-tmp`, text, { mode });
  renameSync(`${path}.aca-tmp`, path);
}

/** daemon.json with runsc registered, every other setting kept. Pure. */
export function withRunscRuntime(current: string | undefined): string {
  let config: Record<string, unknown> = {};
  if (current !== undefined && current.trim() !== '') {
    const parsed = JSON.parse(current) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    config = parsed as Record<string, unknown>;
  }
  const runtimes = (config.runtimes ?? {}) as Record<string, unknown>;
  return `${JSON.stringify({ ...config, runtimes: { ...runtimes, runsc: { path: RUNSC, runtimeArgs: RUNSC_ARGS } } }, null, 2)}\n`;
}

async function waitForRuntime(engine: Engine, tries = 30): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (usableGvisorRuntime(await engine.systemInfo(), true)) return true;
    await new Promise((done) => setTimeout(done, 500));
  }
  return false;
}

/** Set gVisor up for this engine: install runsc, register it, reload. Local engines, as root, with apt-get. */
export async function fixGvisor(ctx: Context, engine: Engine): Promise<void> {
  if (!engine.capabilities.hostPathsVisible) throw new UsageError('aca doctor --fix: the engine is remote; set gVisor up on that machine');
  if (process.getuid?.() !== 0) throw new UsageError('aca doctor --fix: needs root (it installs a package and changes the engine\'s configuration)');
  if (!existsSync('/usr/bin/apt-get')) throw new UsageError('aca doctor --fix: knows Debian and Ubuntu (apt-get); elsewhere follow the steps aca doctor prints');
  const info = await engine.systemInfo();
  if (gvisorStatus(engine.kind, info, true).registered) return say(ctx, 'gVisor is already registered; nothing to change');
  say(ctx, `will ${existsSync(RUNSC) ? '' : 'install the runsc package, '}${engine.kind === 'podman' ? `write ${PODMAN_WRAPPER} and ${PODMAN_DROP_IN}` : `register runsc in ${DOCKER_DAEMON_JSON} (kept as .aca-backup) and reload dockerd`}`);
  if (!existsSync(RUNSC)) {
    say(ctx, 'apt-get install runsc');
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
      execFileSync('apt-get', ['install', '-y', '-qq', 'runsc'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch {
      throw new AcaError('aca doctor --fix: apt-get install runsc failed (see above)');
    }
  }
  if (engine.kind === 'podman') {
    replaceFile(PODMAN_WRAPPER, `#!/bin/sh\n# Written by aca doctor --fix: Podman has no per-runtime arguments (see aca's README, gVisor).\nexec ${RUNSC} ${RUNSC_ARGS.join(' ')} "$@"\n`, 0o755);
    replaceFile(PODMAN_DROP_IN, `# Written by aca doctor --fix.\n[engine.runtimes]\nrunsc = ["${PODMAN_WRAPPER}"]\n`, 0o644);
    return say(ctx, 'done; restart the Podman service so it reads the new runtime, then run aca doctor again');
  }
  let current: string | undefined;
  try {
    current = readFileSync(DOCKER_DAEMON_JSON, 'utf8');
  } catch {
    current = undefined;
  }
  let next: string;
  try {
    next = withRunscRuntime(current);
  } catch (error) {
    throw new AcaError(`aca doctor --fix: ${DOCKER_DAEMON_JSON} is not valid JSON (${(error as Error).message}); fix it first`);
  }
  replaceFile(DOCKER_DAEMON_JSON, next, 0o644);
  const pid = dockerdPid();
  if (!pid) throw new AcaError(`aca doctor --fix: registered runsc in ${DOCKER_DAEMON_JSON}, but found no dockerd to reload; reload it yourself`);
  say(ctx, `reloading dockerd (pid ${pid}) with SIGHUP`);
  process.kill(pid, 'SIGHUP');
  if (!(await waitForRuntime(engine))) throw new AcaError('aca doctor --fix: dockerd did not list runsc after the reload; see its log');
  say(ctx, 'done: gVisor is registered as runtime runsc');
}

function dockerdPid(): number | undefined {
  try {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
  } catch {
    /* fall back to the process table */
  }
  try {
    const pid = Number(execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
