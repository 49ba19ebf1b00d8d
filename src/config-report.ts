/**
 * `aca config`: the resolved configuration and where each value came from. Above config/ and sessions/, since it
 * shows what a session would get (its default network, the devcontainer.json it would use).
 */
import type { DevcontainerReport } from './devcontainer/describe.js';
import { availableParallelism } from 'node:os';
import type { Context } from './context.js';
import { DEFAULT_IMAGE, resolveCaCerts } from './images.js';
import { DEFAULT_LIMITS } from './security.js';
import { loadConfig, userConfigDir } from './config/load.js';
import { defaultNetworkSummary } from './sessions/network.js';
import { CONFIG_KEYS, type ConfigKey } from './config/schema.js';

export interface ConfigEntry {
  key: ConfigKey;
  value: unknown;
  source: string;
}

export interface ConfigReport {
  files: { user?: string; project?: string; userDir?: string };
  /** The project file's trust: trusted (aca trust), or untrusted (it may only narrow). */
  projectTrust?: 'trusted' | 'untrusted';
  entries: ConfigEntry[];
  /** The workspace's devcontainer.json, when it has one (src/devcontainer/describe.ts). */
  devcontainer?: DevcontainerReport;
}

export async function describeConfig(ctx: Context): Promise<ConfigReport> {
  const loaded = await loadConfig({ workspace: ctx.cwd, env: ctx.env, warn: (m) => ctx.out.warn(m) });
  const defaults: Partial<Record<ConfigKey, [unknown, string]>> = {
    image: [DEFAULT_IMAGE, 'default'],
    memory: [DEFAULT_LIMITS.memory, 'default'],
    cpus: [DEFAULT_LIMITS.cpus(availableParallelism()), 'default'],
    pids: [DEFAULT_LIMITS.pids, 'default'],
    network: [defaultNetworkSummary(await ctx.engine().then((e) => e.capabilities.perSessionNetwork, () => undefined)), 'default'],
    user: ['owner of the workspace', 'default'],
    engine: [ctx.env.ACA_ENGINE ?? 'auto', ctx.env.ACA_ENGINE ? 'env ACA_ENGINE' : 'default'],
    host: [ctx.env.DOCKER_HOST, ctx.env.DOCKER_HOST ? 'env DOCKER_HOST' : 'default'],
  };
  // The engine flags outrank the files, which outrank the environment (as the engine is chosen: src/context.ts).
  const flags: Partial<Record<ConfigKey, [unknown, string]>> = {
    ...(ctx.global.engineFrom === '--engine' ? { engine: [ctx.global.engine, '--engine'] } : {}),
    ...(ctx.global.host ? { host: [ctx.global.host, '--host'] } : ctx.global.context ? { host: [`Docker context ${ctx.global.context}`, '--context'] } : {}),
    caCerts: [resolveCaCerts(undefined, ctx.env), ctx.env.NODE_EXTRA_CA_CERTS ? 'env NODE_EXTRA_CA_CERTS' : 'env SSL_CERT_FILE'],
  };
  const entries: ConfigEntry[] = [];
  for (const key of CONFIG_KEYS) {
    const fromFile = loaded.values[key];
    if (flags[key]) entries.push({ key, value: flags[key]![0], source: flags[key]![1] });
    else if (fromFile !== undefined) entries.push({ key, value: fromFile, source: loaded.sources[key]! });
    else if (defaults[key] && defaults[key]![0] !== undefined) entries.push({ key, value: defaults[key]![0], source: defaults[key]![1] });
  }
  const userDir = userConfigDir(ctx.env);
  const projectTrust = loaded.project ? (loaded.project.trust === 'trusted' ? 'trusted' : 'untrusted') : undefined;
  const { describeDevcontainer } = await import('./devcontainer/describe.js');
  const devcontainer = await describeDevcontainer(ctx.cwd, ctx.cwd, ctx.env, loaded.values.image);
  return { files: { ...loaded.files, ...(userDir ? { userDir } : {}) }, ...(projectTrust ? { projectTrust } : {}), entries, ...(devcontainer ? { devcontainer } : {}) };
}
