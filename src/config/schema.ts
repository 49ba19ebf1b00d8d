/**
 * The configuration keys. They mirror the flags; flags override the files.
 * Pure validation: each error names the file and the key.
 */
import { ConfigError, UsageError } from '../errors.js';
import { checkNetwork, SECURITY_CHECKS, type NetworkConfig, type SecurityConfig } from '../security/config.js';
import { parseDetachKeys } from '../terminal.js';
import { parseCache, parseWorkspaceMode } from '../parse.js';
import { checkHealth, checkMonitor, type HealthConfig, type MonitorConfig } from './sections.js';
import { checkAgents, type AgentPreset } from '../agents/presets.js';
import { parseBytes, parseCpus, parseDuration, parseEngineUrlSafe, parseLabel, parsePort, parsePositiveInt, parseVolume } from './validators.js';

export interface AcaConfig extends SecurityConfig {
  image?: string;
  base?: string;
  memory?: string;
  cpus?: string;
  pids?: number;
  /** The session's disk limit; narrowing: a project file may only lower it (sessions/disk-limit.ts). */
  disk?: string;
  env?: string[];
  volumes?: string[];
  ports?: string[];
  labels?: Record<string, string>;
  /** A network name, or { name, allow, egressNetwork } (the egress allow-list). */
  network?: string | NetworkConfig;
  user?: string;
  workdir?: string;
  timeout?: string;
  caCerts?: string;
  engine?: 'auto' | 'docker' | 'podman';
  host?: string;
  detachKeys?: string;
  health?: HealthConfig;
  monitor?: MonitorConfig;
  caches?: string[];
  workspaceMode?: string;
  ttl?: string;
  /** The agent preset `aca run` uses without --agent. */
  agent?: string;
  /** Agent presets (user configuration only: a project file may select one, never define one). */
  agents?: Record<string, AgentPreset>;
}

export type ConfigKey = keyof AcaConfig;

type Check = (value: unknown, where: string) => unknown;

const string: Check = (value, where) => {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where}: expected a non-empty string`);
  return value;
};

const stringList: Check = (value, where) => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new ConfigError(`${where}: expected a list of strings`);
  }
  return value;
};

/** Run a flag parser, re-labelling its usage error as a config error at `where`. */
function via(parse: (value: string) => unknown): Check {
  return (value, where) => {
    const text = typeof value === 'number' ? String(value) : string(value, where);
    try {
      parse(text as string);
    } catch (error) {
      if (error instanceof UsageError) throw new ConfigError(`${where}: ${error.message.replace(/^[^:]+: /, '')}`);
      throw error;
    }
    return String(text);
  };
}

function each(parse: (value: string) => unknown): Check {
  return (value, where) => {
    const list = stringList(value, where) as string[];
    list.forEach((item, i) => via(parse)(item, `${where}[${i}]`));
    return list;
  };
}

const CHECKS: Record<ConfigKey, Check> = {
  image: string,
  base: string,
  memory: via((v) => parseBytes(v, 'memory')),
  cpus: via((v) => parseCpus(v, 'cpus')),
  pids: (value, where) => Number(via((v) => parsePositiveInt(v, 'pids'))(value, where)),
  disk: via((v) => parseBytes(v, 'disk')),
  env: (value, where) => {
    // Either a list of "K=V" / "K", or a map of K to V.
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new ConfigError(`${where}.${k}: expected a string value`);
        }
        return `${k}=${String(v)}`;
      });
    }
    return stringList(value, where);
  },
  volumes: each((v) => parseVolume(v, 'volumes')),
  ports: each((v) => parsePort(v, 'ports')),
  labels: (value, where) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}: expected a map of strings`);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new ConfigError(`${where}.${k}: expected a string value`);
      via((key) => parseLabel(key, 'labels'))(k, `${where}.${k}`);
    }
    return value;
  },
  network: checkNetwork,
  user: string,
  workdir: string,
  timeout: via((v) => parseDuration(v, 'timeout')),
  caCerts: string,
  engine: (value, where) => {
    if (value !== 'auto' && value !== 'docker' && value !== 'podman') throw new ConfigError(`${where}: expected auto, docker or podman`);
    return value;
  },
  host: via(parseEngineUrlSafe),
  detachKeys: via((v) => parseDetachKeys(v, 'detachKeys')),
  health: checkHealth,
  monitor: checkMonitor,
  caches: each((v) => parseCache(v, 'caches')),
  workspaceMode: via((v) => parseWorkspaceMode(v, 'workspaceMode')),
  ttl: via((v) => parseDuration(v, 'ttl')),
  agent: string,
  agents: checkAgents,
  ...SECURITY_CHECKS,
};

export const CONFIG_KEYS = Object.keys(CHECKS) as ConfigKey[];

/** Validate a loaded file's contents; returns the normalised config. */
export function validateConfig(raw: unknown, file: string): AcaConfig {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: expected an object of settings`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    // Own keys only: "__proto__", "constructor" or "toString" are unknown keys, not Object.prototype's members.
    const check = Object.hasOwn(CHECKS, key) ? CHECKS[key as ConfigKey] : undefined;
    if (!check) {
      throw new ConfigError(`${file}: unknown key "${key}"`, { hint: `Known keys: ${CONFIG_KEYS.join(', ')}` });
    }
    config[key] = check(value, `${file}: key "${key}"`);
  }
  return config as AcaConfig;
}
