/**
 * Turn `aca run` flags plus the configuration files into a SessionSpec:
 * flags override files, files override defaults, every value is validated.
 */
import { type DevcontainerFlags, devcontainerFor, devcontainerImage, devcontainerLimit, devcontainerPids, devcontainerRelaxations } from '../devcontainer/apply.js';
import type { ResolvedDevcontainer } from '../devcontainer/resolve.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, hostname, totalmem, userInfo } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';
import type { Context } from '../context.js';
import { configOrigin, loadConfig, UntrustedConfigError, type LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { DEFAULT_IMAGE, resolveCaCerts } from '../images.js';
import {
  parseCpus, parseDuration, parseEnvEntry, parseEnvFile, parseLabel, parseMemory, parsePids, parsePort, parseVolume,
  validateSessionName, type VolumeSpec,
} from '../parse.js';
import { checkSessionUser, DEFAULT_LIMITS, defaultSessionUser, workspaceModeFor } from '../security.js';
import { hostRelaxations } from './host-relaxations.js';
import { resolveSecurity, type SecurityFlags } from '../security/resolve.js';
import { appendAudit } from '../audit.js';
import { DEFAULT_DETACH_KEYS, localTerminalType, parseDetachKeys } from '../terminal.js';
import { VERSION } from '../version.js';
import { resolveHealth, type HealthFlags } from './health.js';
import { resolveLifecycle, type LifecycleFlags } from './lifecycle-options.js';
import { generateSessionName } from './names.js';
import { resolveDisk } from './disk-limit.js';
import { engineLocation, planForRemote } from './remote.js';
import { defaultNetworkFor } from './network.js';
import { bootId } from '../host.js';
import { ownershipLabels, type SessionSpec } from './spec.js';
import { LABEL } from '../labels.js';
import { stateId } from '../state-dir.js';
import { branchLabels } from './branch.js';
import { nonRootUser } from '../agents/apply.js';
import { agentAndBranch } from './agent-branch.js';

export interface RunFlags extends HealthFlags, LifecycleFlags, SecurityFlags, DevcontainerFlags {
  image?: string;
  name?: string;
  workspace?: string | false;
  workspaceRo?: boolean;
  env?: string[];
  envFile?: string[];
  volume?: string[];
  label?: string[];
  publish?: string[];
  user?: string;
  workdir?: string;
  network?: string;
  timeout?: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  disk?: string;
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  keep?: boolean;
  build?: boolean;
  base?: string;
  caCerts?: string;
  detachKeys?: string;
  /** --agent NAME: a preset (src/agents/). */
  agent?: string;
  agentLogin?: boolean;
  /** --branch NAME: the session works on its own copy of the repository, on this new branch. */
  branch?: string;
  includeUncommitted?: boolean;
}

export interface ResolvedRun {
  spec: SessionSpec;
  timeoutMs: number | undefined;
  noBuild: boolean;
  base: string | undefined;
  detachKeys: Buffer;
  config: LoadedConfig;
  /** The devcontainer.json this session follows: built and wrapped by runSession (src/devcontainer/prepare.ts). */
  devcontainer?: ResolvedDevcontainer | undefined;
}

function workspaceDir(ctx: Context, flag: string | false | undefined): string | undefined {
  if (flag === false) return undefined;
  const dir = resolve(ctx.cwd, flag ?? '.');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw new UsageError(`--workspace: not a directory: ${dir}`);
  return dir;
}

/** Bind sources that look like paths must exist: never let the engine create them empty. */
function checkVolume(volume: VolumeSpec, cwd: string, flag: string): VolumeSpec {
  const isPath = volume.source.startsWith('/') || volume.source.startsWith('.') || volume.source.startsWith('~');
  if (!isPath) return volume;
  if (volume.source.startsWith('~')) throw new UsageError(`${flag}: "${volume.source}": write the home directory out in full`);
  const source = isAbsolute(volume.source) ? volume.source : resolve(cwd, volume.source);
  if (!existsSync(source)) throw new UsageError(`${flag}: no such file or directory: ${source}`);
  return { ...volume, source };
}

function terminalSize(stream: { isTTY?: boolean; rows?: number; columns?: number }): [number, number] | undefined {
  return stream.isTTY && stream.rows && stream.columns ? [stream.rows, stream.columns] : undefined;
}

/**
 * -w meant --workspace before it meant --workdir (as in docker, and in aca exec): a relative host path given that way
 * stops here; an absolute one that names a directory under the user's home on this host is most likely the old habit,
 * so it is taken as asked (docker's meaning) with a line saying how to mount it instead.
 */
function checkWorkdir(ctx: Context, dir: string): void {
  if (posix.isAbsolute(dir)) {
    const home = ctx.env.HOME;
    if (home && home !== '/' && dir.startsWith(`${home}/`) && existsSync(dir)) {
      ctx.out.warn(`-w/--workdir ${dir} is a directory inside the session (as in docker); to mount that host directory use --workspace ${dir}`);
    }
    return;
  }
  throw new UsageError(`-w/--workdir "${dir}" is not an absolute path inside the session: -w is now --workdir, as in docker and aca exec; for the host directory use --workspace ${dir}`);
}

export async function resolveRun(ctx: Context, flagsGiven: RunFlags, commandGiven: string[], options: { shell?: boolean } = {}): Promise<ResolvedRun> {
  if (flagsGiven.workdir !== undefined) checkWorkdir(ctx, flagsGiven.workdir);
  const workspace = workspaceDir(ctx, flagsGiven.workspace);
  const config = await loadConfig({ workspace: workspace ?? ctx.cwd, env: ctx.env, warn: (m) => ctx.out.warn(m) }).catch((error: unknown) => {
    // A project file refused for widening the sandbox is a refusal like any other: in the audit trail.
    if (error instanceof UntrustedConfigError) {
      appendAudit(ctx.env, { session: flagsGiven.name ?? '-', action: 'create', args: process.argv.slice(2), outcome: 'refused', error: error.message }, (m) => ctx.out.warn(m));
    }
    throw error;
  });
  const file = config.values;
  const agentName = flagsGiven.agent ?? file.agent;
  const { flags, command, agent, branch } = await agentAndBranch(ctx, flagsGiven, commandGiven, workspace, file, agentName, options.shell);
  // The workspace's devcontainer.json, where nothing else names an image: the lowest layer (src/devcontainer/).
  const devcontainer = await devcontainerFor(ctx, flags, file, workspace);
  const dc = devcontainer?.plan;

  const env: Array<[string, string]> = [...(dc?.containerEnv ?? [])];
  for (const entry of file.env ?? []) {
    const parsed = parseEnvEntry(entry, ctx.env, 'env');
    if (parsed) env.push(parsed);
  }
  for (const envFile of flags.envFile ?? []) {
    const path = resolve(ctx.cwd, envFile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UsageError(`--env-file: cannot read ${path}`);
    }
    env.push(...parseEnvFile(text, ctx.env, envFile));
  }
  // The local terminal's type, so programs inside draw for it; -e TERM=... still wins.
  if (flags.tty) env.push(['TERM', localTerminalType(ctx.env)]);
  for (const entry of flags.env ?? []) {
    const parsed = parseEnvEntry(entry, ctx.env);
    if (parsed) env.push(parsed);
  }

  const volumes = [
    ...(dc?.volumes ?? []).map((v) => checkVolume(parseVolume(v, 'devcontainer mounts'), workspace ?? ctx.cwd, 'devcontainer mounts')),
    ...(file.volumes ?? []).map((v) => checkVolume(parseVolume(v, 'volumes'), ctx.cwd, 'volumes')),
    ...(flags.volume ?? []).map((v) => checkVolume(parseVolume(v), ctx.cwd, '-v')),
  ];
  const labels: Record<string, string> = { ...(dc?.labels ?? {}), ...(file.labels ?? {}) };
  for (const entry of flags.label ?? []) {
    const [k, v] = parseLabel(entry);
    labels[k] = v;
  }
  const ports = [...(dc?.ports ?? []).map((p) => parsePort(p, 'devcontainer ports')), ...(file.ports ?? []).map((p) => parsePort(p, 'ports')), ...(flags.publish ?? []).map((p) => parsePort(p))];

  const workspaceOwner = workspace ? statSync(workspace) : undefined;
  const invoking = userInfo();
  let user = flags.user ?? file.user ?? dc?.user ?? defaultSessionUser(workspaceOwner, { uid: invoking.uid, gid: invoking.gid });

  const detach = Boolean(flags.detach);
  if (detach && flags.timeout) throw new UsageError('--timeout applies to a foreground command; it cannot be used with --detach');
  if (detach && flags.keep) throw new UsageError('--keep applies to a foreground command; a detached session is kept anyway');
  const timeout = flags.timeout ?? (detach ? undefined : file.timeout);
  const name = flags.name !== undefined ? validateSessionName(flags.name) : generateSessionName();
  const health = resolveHealth(flags, file.health, file.monitor);

  // A remote engine cannot see this machine's files: the workspace is copied in, host paths are refused.
  const caCerts = resolveCaCerts(flags.caCerts ?? file.caCerts, ctx.env, flags.caCerts ? '--ca-certs' : 'caCerts');
  const location = await engineLocation(ctx);
  // The engine refuses limits beyond its host's CPUs and memory with raw runtime errors: check them first
  // where that host is this machine (a remote engine still answers for itself).
  const host = location.remote ? {} : { cpus: availableParallelism(), memory: totalmem() };
  const limits = {
    memory: parseMemory(flags.memory ?? file.memory ?? devcontainerLimit(ctx, devcontainer, 'memory', DEFAULT_LIMITS.memory), flags.memory ? '--memory' : 'memory', host.memory),
    nanoCpus: parseCpus(flags.cpus ?? file.cpus ?? devcontainerLimit(ctx, devcontainer, 'cpus', DEFAULT_LIMITS.cpus(availableParallelism())), flags.cpus ? '--cpus' : 'cpus', host.cpus),
    pids: flags.pids !== undefined ? parsePids(flags.pids) : file.pids !== undefined ? parsePids(String(file.pids), 'pids') : devcontainerPids(devcontainer, DEFAULT_LIMITS.pids),
    // A project file's disk above the user's (or aca's default) is refused with the other narrowing keys (config/classify.ts).
    disk: resolveDisk(flags.disk, file.disk),
  };
  const remote = planForRemote({
    location,
    hasWorkspace: workspace !== undefined,
    workspaceMode: flags.workspaceMode ? { value: flags.workspaceMode, from: '--workspace-mode' } : file.workspaceMode ? { value: file.workspaceMode, from: 'workspaceMode' } : undefined,
    workspaceRo: Boolean(flags.workspaceRo),
    volumes: volumes.map((v, i) => ({ ...v, from: i < (dc?.volumes.length ?? 0) ? 'devcontainer mounts' : i < (dc?.volumes.length ?? 0) + (file.volumes?.length ?? 0) ? 'volumes' : '-v' })),
  });
  for (const note of remote.notes) ctx.out.info(`aca: ${note}`);

  // A root-owned workspace is copied in unless a mode was chosen: no session writes a host tree as root.
  // A --branch session always works on its own copy of the repository.
  const modeChosen = Boolean(branch || flags.workspaceMode || flags.workspaceRo || file.workspaceMode || remote.workspaceMode);
  const rootOwned = workspaceModeFor(workspaceOwner, modeChosen);
  if (rootOwned) ctx.out.info(`aca: ${rootOwned.note}`);
  const defaultMode = remote.workspaceMode ?? rootOwned?.mode;
  const lifecycle = resolveLifecycle(name, branch ? { ...flags, workspaceMode: 'copy' } : defaultMode ? { ...flags, workspaceMode: defaultMode } : flags, file, workspace !== undefined, new Date());
  if (branch) lifecycle.labels[LABEL.workspaceMode] = 'branch';
  if (agent?.preset.nonRoot) user = nonRootUser(agentName!, user, Boolean(workspace) && lifecycle.mode !== 'copy', Boolean(flags.user ?? file.user));
  if (workspace) checkSessionUser(user, flags.user ? '--user' : 'user', lifecycle.mode);
  // Every mount, capability and escape hatch is checked here, before anything exists.
  const security = await resolveSecurity({
    // Capabilities and privilege from a trusted devcontainer.json pass the same checks (--privileged still needs --unsafe).
    flags: dc?.privileged && !flags.privileged ? { ...flags, privileged: true } : flags,
    file: dc?.capAdd.length && !file.capAdd ? { ...file, capAdd: dc.capAdd } : file,
    cwd: ctx.cwd,
    env: ctx.env,
    workspace: workspace ? { hostPath: workspace, readOnly: lifecycle.mode === 'ro', bound: lifecycle.mode !== 'copy' } : undefined,
    volumes,
    networkFlag: flags.network,
    origin: (key) => (key === 'capAdd' && dc?.capAdd.length && !file.capAdd ? `trusted devcontainer.json ${devcontainer!.file}` : configOrigin(config, key)),
  }).catch((error: unknown) => {
    // A refusal is part of the audit trail too.
    appendAudit(ctx.env, { session: name, action: 'create', args: process.argv.slice(2), outcome: 'refused', error: (error as Error).message }, (m) => ctx.out.warn(m));
    throw error;
  });

  const spec: SessionSpec = {
    name,
    image: flags.image ?? file.image ?? devcontainerImage(devcontainer) ?? DEFAULT_IMAGE,
    command,
    workspace: workspace ? { hostPath: workspace, readOnly: lifecycle.mode === 'ro' } : undefined,
    env,
    volumes,
    labels,
    ports,
    user,
    workdir: flags.workdir ?? file.workdir ?? dc?.workdir,
    network: security.network.own ? defaultNetworkFor(name, security.network.allow) : security.network.name,
    memory: limits.memory,
    nanoCpus: limits.nanoCpus,
    pids: limits.pids,
    interactive: Boolean(flags.interactive),
    tty: Boolean(flags.tty),
    detach,
    caCerts,
    consoleSize: terminalSize(ctx.out.stdout),
    ownership: ownershipLabels({
      session: name,
      workspace,
      user: invoking.username,
      host: hostname(),
      version: VERSION,
      now: new Date(),
      mode: detach ? 'detached' : flags.tty ? 'interactive' : flags.keep || branch ? 'kept' : 'foreground',
      owner: { pid: process.pid, bootId: bootId() },
    }),
    healthcheck: health.healthcheck,
  };
  // The unhealthy policy and --record are aca's own labels: the monitor finds them there.
  Object.assign(spec.ownership, health.labels);
  Object.assign(spec.ownership, lifecycle.labels);
  spec.ownership[LABEL.disk] = String(limits.disk);
  // Whose disk guard checks that limit (disk-guard.ts): the one of this state directory.
  const owningState = stateId(ctx.env);
  if (owningState) spec.ownership[LABEL.ownerState] = owningState;
  if (agent) spec.ownership[LABEL.agent] = agentName!;
  // Where the login went in the home: a checkpoint leaves it out (checkpoint.ts).
  if (agent?.loginCopies.length) spec.ownership[LABEL.agentLogin] = agent.loginCopies.map((c) => c.target).join(',');
  if (branch) Object.assign(spec.ownership, branchLabels(branch));
  spec.branch = branch;
  spec.storage = lifecycle.storage;
  // Host env, mounts, ports, the user and a CA file widen the session too: the audit and the labels list them all.
  security.relaxations.push(...hostRelaxations({ config, flags, caCerts: spec.caCerts }), ...devcontainerRelaxations(devcontainer));
  if (dc?.privileged && !flags.privileged) {
    for (const r of security.relaxations) if (r.what === 'privileged') r.from = `trusted devcontainer.json ${devcontainer!.file}`;
  }
  if (devcontainer) spec.ownership[LABEL.devcontainer] = `${devcontainer.file}@${devcontainer.sha256.slice(0, 12)}`;
  security.relaxed = security.relaxations.map((r) => r.what);
  security.security.relaxations = security.relaxations;
  spec.security = security.security;
  spec.protectedMounts = security.protectedMounts;
  spec.securityPlan = security;
  return {
    spec,
    timeoutMs: timeout ? parseDuration(timeout, '--timeout') : undefined,
    noBuild: flags.build === false,
    base: flags.base ?? file.base,
    detachKeys: parseDetachKeys(flags.detachKeys ?? file.detachKeys ?? DEFAULT_DETACH_KEYS, flags.detachKeys ? '--detach-keys' : 'detachKeys'),
    config,
    devcontainer,
  };
}
