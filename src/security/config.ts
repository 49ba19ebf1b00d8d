/** Configuration keys of the security profile, validated like the flags (each error names the file and key). */
import { ConfigError, UsageError } from '../errors.js';
import { normaliseCapability } from './capabilities.js';
import { parseSecret } from './secrets.js';
import { parseAllowHost } from './egress.js';
import { parseIsolation, type IsolationChoice } from './isolation.js';

export interface NetworkConfig {
  /** The network to join (as --network). */
  name?: string;
  /** Hosts the session may reach, through aca's egress proxy (as --allow-host). */
  allow?: string[];
  /** Where the egress proxy reaches out (as --egress-network). */
  egressNetwork?: string;
}

export interface SecurityConfig {
  secrets?: string[];
  secretEnv?: string[];
  capAdd?: string[];
  writableRoot?: boolean;
  protectGit?: boolean;
  runtime?: string;
  isolation?: IsolationChoice;
}

const list = (value: unknown, where: string, each: (item: string, at: string) => void): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`${where}: expected a list of strings`);
  value.forEach((item, i) => {
    try {
      each(item as string, `${where}[${i}]`);
    } catch (error) {
      if (error instanceof UsageError) throw new ConfigError(`${where}[${i}]: ${error.message.replace(/^[^:]+: /, '')}`);
      throw error;
    }
  });
  return value as string[];
};

const bool = (value: unknown, where: string) => {
  if (typeof value !== 'boolean') throw new ConfigError(`${where}: expected true or false`);
  return value;
};

/** `network`: a name, or { name, allow, egressNetwork }. */
export function checkNetwork(value: unknown, where: string): string | NetworkConfig {
  if (typeof value === 'string' && value !== '') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}: expected a network name or { name, allow, egressNetwork }`);
  const section = value as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!['name', 'allow', 'egressNetwork'].includes(key)) throw new ConfigError(`${where}: unknown key "${key}" (known: name, allow, egressNetwork)`);
  }
  for (const key of ['name', 'egressNetwork']) {
    if (section[key] !== undefined && (typeof section[key] !== 'string' || section[key] === '')) throw new ConfigError(`${where}.${key}: expected a non-empty string`);
  }
  if (section.allow !== undefined) list(section.allow, `${where}.allow`, (item) => parseAllowHost(item, 'network.allow'));
  return section as NetworkConfig;
}

export const SECURITY_CHECKS = {
  secrets: (value: unknown, where: string) => list(value, where, (item) => parseSecret(item, '/', 'secrets')),
  secretEnv: (value: unknown, where: string) => list(value, where, (item) => parseSecret(item, '/', 'secretEnv')),
  capAdd: (value: unknown, where: string) => list(value, where, (item) => normaliseCapability(item, 'capAdd')),
  writableRoot: bool,
  protectGit: bool,
  runtime: (value: unknown, where: string) => {
    if (typeof value !== 'string' || !/^[a-zA-Z0-9_.-]+$/.test(value)) throw new ConfigError(`${where}: expected a runtime name, e.g. runsc`);
    return value;
  },
  isolation: (value: unknown, where: string) => {
    try {
      return parseIsolation(String(value), 'isolation');
    } catch {
      throw new ConfigError(`${where}: expected container, gvisor or auto`);
    }
  },
};
