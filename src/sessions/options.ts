/**
 * Turn `aca run` flags plus the configuration files into a SessionSpec:
 * flags override files, files override defaults, every value is validated.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, hostname, userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Context } from '../context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { DEFAULT_IMAGE, resolveCaCerts } from '../images.js';
import {
  parseCpus, parseDuration, parseEnvEntry, parseEnvFile, parseLabel, parseMemory, parsePort, parsePositiveInt, parseVolume,
  validateSessionName, type VolumeSpec,
} from '../parse.js';
import { DEFAULT_LIMITS, defaultSessionUser } from '../security.js';
import { resolveSecurity, type SecurityFlags } from '../security/resolve.js';
import { appendAudit } from '../audit.js';
import { DEFAULT_DETACH_KEYS, localTerminalType, parseDetachKeys } from '../terminal.js';
import { VERSION } from '../version.js';
import { resolveHealth, type HealthFlags } from './health.js';
import { resolveLifecycle, type LifecycleFlags } from './lifecycle-options.js';
import { generateSessionName } from './names.js';
import { engineLocation, planForRemote } from './remote.js';
import { defaultNetworkFor } from './network.js';
import { bootId } from '../host.js';
import { ownershipLabels, type SessionSpec } from './spec.js';
import { LABEL } from './labels.js';
import { branchLabels } from './branch.js';
import { nonRootUser } from '../agents/apply.js';
import { agentAndBranch } from '../agents/run-flags.js';

export interface RunFlags extends HealthFlags, LifecycleFlags, SecurityFlags {
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

export async function resolveRun(ctx: Context, flagsGiven: RunFlags, commandGiven: string[], options: { shell?: boolean } = {}): Promise<ResolvedRun> {
  const workspace = workspaceDir(ctx, flagsGiven.workspace);
  const config = await loadConfig({ workspace: workspace ?? ctx.cwd, env: ctx.env });
  const file = config.values;
  const agentName = flagsGiven.agent ?? file.agent;
  const { flags, command, agent, branch } = await agentAndBranch(ctx, flagsGiven, commandGiven, workspace, file, agentName, options.shell);

  const env: Array<[string, string]> = [];
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
    ...(file.volumes ?? []).map((v) => checkVolume(parseVolume(v, 'volumes'), ctx.cwd, 'volumes')),
    ...(flags.volume ?? []).map((v) => checkVolume(parseVolume(v), ctx.cwd, '-v')),
  ];
  const labels: Record<string, string> = { ...(file.labels ?? {}) };
  for (const entry of flags.label ?? []) {
    const [k, v] = parseLabel(entry);
    labels[k] = v;
  }
  const ports = [...(file.ports ?? []).map((p) => parsePort(p, 'ports')), ...(flags.publish ?? []).map((p) => parsePort(p))];

  const workspaceOwner = workspace ? statSync(workspace) : undefined;
  const invoking = userInfo();
  let user = flags.user ?? file.user ?? defaultSessionUser(workspaceOwner, { uid: invoking.uid, gid: invoking.gid });

  const detach = Boolean(flags.detach);
  if (detach && flags.timeout) throw new UsageError('--timeout applies to a foreground command; it cannot be used with --detach');
  if (detach && flags.keep) throw new UsageError('--keep applies to a foreground command; a detached session is kept anyway');
  const timeout = flags.timeout ?? (detach ? undefined : file.timeout);
  const name = flags.name ? validateSessionName(flags.name) : generateSessionName();
  const health = resolveHealth(flags, file.health, file.monitor);

  // A remote engine cannot see this machine's files: the workspace is copied in, host paths are refused.
  const caCerts = resolveCaCerts(flags.caCerts ?? file.caCerts, ctx.env);
  const remote = planForRemote({
    location: await engineLocation(ctx),
    hasWorkspace: workspace !== undefined,
    workspaceMode: flags.workspaceMode ? { value: flags.workspaceMode, from: '--workspace-mode' } : file.workspaceMode ? { value: file.workspaceMode, from: 'workspaceMode' } : undefined,
    workspaceRo: Boolean(flags.workspaceRo),
    volumes: volumes.map((v, i) => ({ ...v, from: i < (file.volumes?.length ?? 0) ? 'volumes' : '-v' })),
    caCerts: caCerts ? { path: caCerts, explicit: Boolean(flags.caCerts ?? file.caCerts) } : undefined,
  });
  for (const note of remote.notes) ctx.out.info(`aca: ${note}`);

  const lifecycle = resolveLifecycle(name, branch ? { ...flags, workspaceMode: 'copy' } : remote.workspaceMode ? { ...flags, workspaceMode: remote.workspaceMode } : flags, file, workspace !== undefined, new Date());
  if (branch) lifecycle.labels[LABEL.workspaceMode] = 'branch';
  if (agent?.preset.nonRoot) user = nonRootUser(agentName!, user, Boolean(workspace) && lifecycle.mode !== 'copy', Boolean(flags.user ?? file.user));
  // Every mount, capability and escape hatch is checked here, before anything exists.
  const security = await resolveSecurity({
    flags,
    file,
    cwd: ctx.cwd,
    env: ctx.env,
    workspace: workspace ? { hostPath: workspace, readOnly: lifecycle.mode === 'ro', bound: lifecycle.mode !== 'copy' } : undefined,
    volumes,
    networkFlag: flags.network,
  }).catch((error: unknown) => {
    // A refusal is part of the audit trail too.
    appendAudit(ctx.env, { session: name, action: 'create', args: process.argv.slice(2), outcome: 'refused', error: (error as Error).message }, (m) => ctx.out.warn(m));
    throw error;
  });

  const spec: SessionSpec = {
    name,
    image: flags.image ?? file.image ?? DEFAULT_IMAGE,
    command,
    workspace: workspace ? { hostPath: workspace, readOnly: lifecycle.mode === 'ro' } : undefined,
    env,
    volumes,
    labels,
    ports,
    user,
    workdir: flags.workdir ?? file.workdir,
    network: security.network.own ? defaultNetworkFor(name, security.network.allow) : security.network.name,
    memory: parseMemory(flags.memory ?? file.memory ?? DEFAULT_LIMITS.memory, flags.memory ? '--memory' : 'memory'),
    nanoCpus: parseCpus(flags.cpus ?? file.cpus ?? DEFAULT_LIMITS.cpus(availableParallelism())),
    pids: flags.pids ? parsePositiveInt(flags.pids, '--pids') : (file.pids ?? DEFAULT_LIMITS.pids),
    interactive: Boolean(flags.interactive),
    tty: Boolean(flags.tty),
    detach,
    caCerts: remote.keepCaCerts ? caCerts : undefined,
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
  if (agent) spec.ownership[LABEL.agent] = agentName!;
  if (branch) Object.assign(spec.ownership, branchLabels(branch));
  spec.branch = branch;
  spec.storage = lifecycle.storage;
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
  };
}
