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
import { existsSync } from 'node:fs';
import type { Context } from './context.js';
import { type Engine, type EngineSystemInfo, type RuntimeRegistration, type RuntimeSpec, usableGvisorRuntime } from './engine/index.js';
import { AcaError, UsageError } from './errors.js';

export const RUNSC = '/usr/bin/runsc';
export const RUNSC_ARGS = ['--platform=ptrace', '--network=host'];
/** gVisor as aca registers it with an engine (how depends on the engine: Engine.runtimeRegistration). */
const GVISOR: RuntimeSpec = { id: 'gvisor', name: 'runsc', path: RUNSC, args: RUNSC_ARGS };

export interface GvisorStatus {
  installed: boolean;
  /** The runtime name the engine offers gVisor under. */
  registered: string | undefined;
  runtimeArgs: string[];
  steps: string[];
}

export function gvisorSteps(registration: RuntimeRegistration): string[] {
  return ['apt-get install -y runsc', ...registration.steps(GVISOR)];
}

export function gvisorStatus(registration: RuntimeRegistration, info: EngineSystemInfo, local: boolean): GvisorStatus {
  const registered = usableGvisorRuntime(info, local);
  const runtime = registered ? (info.Runtimes?.[registered] as { runtimeArgs?: string[] } | undefined) : undefined;
  return { installed: existsSync(RUNSC), registered: registered && registration.registeredAsAca(GVISOR) ? registered : undefined, runtimeArgs: runtime?.runtimeArgs ?? [], steps: gvisorSteps(registration) };
}

/** The doctor's line about gVisor: optional, so never a failure. */
export async function gvisorCheck(engine: Engine, info: EngineSystemInfo, local: boolean) {
  const status = gvisorStatus(await engine.runtimeRegistration(), info, local);
  const data = { installed: status.installed, registered: status.registered ?? null, runtimeArgs: status.runtimeArgs, steps: status.steps };
  if (status.registered) {
    // An engine that ignores the runtime a create asks for (Podman 4.3's compat API) gets such sessions refused by aca run.
    const auto = (await engine.isolationFacts()).autoMayPickGvisor
      ? 'sessions use it by default (isolation auto)'
      : engine.capabilities.runtimeChoiceHonoured
        ? 'use it with --isolation gvisor'
        : 'only --isolation gvisor asks for it, and aca run refuses the session if Podman creates it on another runtime';
    return { name: 'gvisor', status: 'ok' as const, detail: `registered as runtime ${status.registered}${status.runtimeArgs.length ? ` (${status.runtimeArgs.join(' ')})` : ''}; ${auto}`, data };
  }
  return {
    name: 'gvisor',
    status: 'warn' as const,
    detail: `${status.installed ? 'runsc is installed but not registered with' : 'not installed for'} this ${engine.kind} engine: sessions share the host's kernel (isolation container)`,
    hint: `${status.steps.join('; ')}${local && process.getuid?.() === 0 ? '. aca doctor --fix does this.' : ''}`,
    data,
  };
}

function say(ctx: Context, line: string): void {
  ctx.out.info(`aca doctor --fix: ${line}`);
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
  const [info, registration] = await Promise.all([engine.systemInfo(), engine.runtimeRegistration()]);
  if (gvisorStatus(registration, info, true).registered) return say(ctx, 'gVisor is already registered; nothing to change');
  say(ctx, `will ${existsSync(RUNSC) ? '' : 'install the runsc package, '}${registration.plan(GVISOR)}`);
  if (!existsSync(RUNSC)) {
    say(ctx, 'apt-get install runsc');
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
      execFileSync('apt-get', ['install', '-y', '-qq', 'runsc'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch {
      throw new AcaError('aca doctor --fix: apt-get install runsc failed (see above)');
    }
  }
  const next = await registration.register(GVISOR, (line) => say(ctx, line), () => waitForRuntime(engine));
  say(ctx, next ? `done; ${next}` : 'done: gVisor is registered as runtime runsc');
}
