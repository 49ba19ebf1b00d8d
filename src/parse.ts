/**
 * Pure parsers for flag and config values. Each throws UsageError naming the
 * flag and the bad value, so the CLI can print one clear line.
 */
import { posix } from 'node:path';
import { UsageError } from './errors.js';
import { SESSION_HOME } from './security.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "5m", "1h30m", "250ms", or a bare number of seconds. Returns milliseconds. */
export function parseDuration(value: string, flag = 'duration'): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return checkedMs(Number(text) * 1000, value, flag);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new UsageError(`${flag}: invalid duration "${value}" (use e.g. 30s, 5m, 1h30m)`);
  }
  return checkedMs(total, value, flag);
}

/** Ten years: longer is a typo, and beyond it milliseconds stop being exact. */
export const MAX_DURATION_MS = 10 * 365 * 86_400_000;

function checkedMs(ms: number, value: string, flag: string): number {
  if (!(ms <= MAX_DURATION_MS)) throw new UsageError(`${flag}: duration "${value}" is too long (at most 10 years)`);
  return Math.round(ms);
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker-style sizes: "512m", "2g", "1.5g", "1048576". Binary units, as docker does. */
export function parseBytes(value: string, flag = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  if (!match) throw new UsageError(`${flag}: invalid size "${value}" (use e.g. 512m, 2g)`);
  const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!);
  if (bytes <= 0) throw new UsageError(`${flag}: size must be positive, got "${value}"`);
  // The engine takes sizes as 64-bit integers; past 2^53 a JSON number is no longer exact.
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag}: size "${value}" is too large`);
  return bytes;
}

/** Docker refuses a memory limit below 6 MiB. */
export const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * A memory limit: at least the engine's 6 MiB, and (when the engine is on this
 * machine) at most its physical memory, so the engine never answers with a raw error.
 */
export function parseMemory(value: string, flag = '--memory', hostMemory?: number): number {
  // The upper bound in the flag's own unit, rounded down, so the number shown is one that is accepted.
  const range = () => `allowed: 6m${hostMemory ? ` to ${Math.floor(hostMemory / 1024 ** 2)}m, this host's memory` : ''}`;
  let bytes: number;
  try {
    bytes = parseBytes(value, flag);
  } catch (error) {
    if (error instanceof UsageError && /too large/.test(error.message)) throw new UsageError(`${flag}: "${value}" is too large (${range()})`);
    throw error;
  }
  if (bytes < MIN_MEMORY) throw new UsageError(`${flag}: "${value}" is below the 6m minimum (${range()})`);
  if (hostMemory && bytes > hostMemory) throw new UsageError(`${flag}: "${value}" is more than this host's memory (${range()})`);
  return bytes;
}

/**
 * "1.5" CPUs → NanoCPUs. The engine takes 0.01 CPUs at least, and at most the
 * CPUs its host has (given when the engine is on this machine).
 */
export function parseCpus(value: string, flag = '--cpus', hostCpus?: number): number {
  const text = value.trim();
  const range = `allowed: 0.01 to ${hostCpus ?? "the host's CPU count"}`;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) {
    throw new UsageError(`${flag}: invalid CPU count "${value}" (use e.g. 1, 1.5; ${range})`);
  }
  const cpus = Number(text);
  if (cpus < 0.01) throw new UsageError(`${flag}: ${value} CPUs is below the 0.01 minimum (${range})`);
  if (hostCpus && cpus > hostCpus) throw new UsageError(`${flag}: ${value} CPUs is more than this host has (${range})`);
  return Math.round(cpus * 1e9);
}

export function parsePositiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag}: expected a positive whole number, got "${value}"`);
  }
  return Number(value);
}

/** The kernel's largest pid count (PID_MAX_LIMIT on 64-bit); pids.max refuses more. */
export const MAX_PIDS = 4_194_304;

export function parsePids(value: string, flag = '--pids'): number {
  const range = `allowed: 1 to ${MAX_PIDS}`;
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new UsageError(`${flag}: expected a positive whole number, got "${value}" (${range})`);
  }
  if (Number(value) > MAX_PIDS) throw new UsageError(`${flag}: ${value.trim()} is more than the kernel allows (${range})`);
  return Number(value);
}

/** Environment entries: "K=V", or "K" to take the host's value (skipped when unset, as docker does). */
export function parseEnvEntry(entry: string, hostEnv: NodeJS.ProcessEnv, flag = '-e'): [string, string] | undefined {
  const eq = entry.indexOf('=');
  const key = eq === -1 ? entry : entry.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new UsageError(`${flag}: invalid variable name "${key}"`);
  if (eq !== -1) return [key, entry.slice(eq + 1)];
  const hostValue = hostEnv[key];
  return hostValue === undefined ? undefined : [key, hostValue];
}

/** Contents of an --env-file: KEY=VALUE lines, # comments, blank lines, bare KEY from the host. */
export function parseEnvFile(text: string, hostEnv: NodeJS.ProcessEnv, fileName: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7) : line;
    const entry = parseEnvEntry(body, hostEnv, `${fileName}:${index + 1}`);
    if (entry) entries.push(entry);
  });
  return entries;
}

export function parseLabel(entry: string, flag = '--label'): [string, string] {
  const eq = entry.indexOf('=');
  const key = eq === -1 ? entry : entry.slice(0, eq);
  if (key === '') throw new UsageError(`${flag}: empty label key in "${entry}"`);
  if (key.startsWith('aca.')) throw new UsageError(`${flag}: "${key}" is reserved (aca.* labels belong to aca)`);
  return [key, eq === -1 ? '' : entry.slice(eq + 1)];
}

export interface VolumeSpec {
  source: string;
  target: string;
  readOnly: boolean;
}

/** "-v SRC:DST[:ro|rw]". SRC must be absolute (or ./relative, resolved by the caller) or a volume name. */
export function parseVolume(entry: string, flag = '-v'): VolumeSpec {
  const parts = entry.split(':');
  let mode: string | undefined;
  if (parts.length === 3) mode = parts.pop();
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new UsageError(`${flag}: invalid mount "${entry}" (use SRC:DST or SRC:DST:ro)`);
  }
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
    throw new UsageError(`${flag}: invalid mount mode "${mode}" in "${entry}" (use ro or rw)`);
  }
  if (!parts[1].startsWith('/')) throw new UsageError(`${flag}: container path must be absolute in "${entry}"`);
  return { source: parts[0], target: parts[1], readOnly: mode === 'ro' };
}

export interface PortSpec {
  hostIp: string;
  hostPort: string;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/**
 * "-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]". Without an IP, aca publishes on
 * 127.0.0.1 (docker publishes on every interface; a sandbox should not).
 */
export function parsePort(entry: string, flag = '-p'): PortSpec {
  const [spec, proto = 'tcp'] = entry.split('/');
  if (proto !== 'tcp' && proto !== 'udp') throw new UsageError(`${flag}: invalid protocol "${proto}" in "${entry}"`);
  let hostIp = '127.0.0.1';
  let rest = spec ?? '';
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (bracketed) {
    hostIp = bracketed[1]!;
    rest = bracketed[2]!;
  }
  const parts = rest.split(':');
  if (!bracketed && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || parts.length === 0) throw new UsageError(`${flag}: invalid port mapping "${entry}"`);
  const containerPort = parts.pop()!;
  const hostPort = parts[0] ?? '';
  const isPort = (p: string) => /^\d+$/.test(p) && Number(p) > 0 && Number(p) < 65536;
  if (!isPort(containerPort) || (hostPort !== '' && !isPort(hostPort))) {
    throw new UsageError(`${flag}: invalid port mapping "${entry}"`);
  }
  return { hostIp, hostPort, containerPort: Number(containerPort), protocol: proto };
}

/** A session name: what docker accepts as a container name, minus the leading slash. */
export function validateSessionName(name: string, flag = '--name'): string {
  if (name === '') throw new UsageError(`${flag}: the session name is empty (leave --name out for a generated one)`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(name)) {
    throw new UsageError(`${flag}: invalid session name "${name}" (letters, digits, _ . -; at most 63)`);
  }
  return name;
}

/** Where the usual tools keep their download caches. */
export const KNOWN_CACHES: Record<string, string> = {
  npm: `${SESSION_HOME}/.npm`,
  yarn: `${SESSION_HOME}/.cache/yarn`,
  pnpm: `${SESSION_HOME}/.local/share/pnpm/store`,
  pip: `${SESSION_HOME}/.cache/pip`,
  cargo: `${SESSION_HOME}/.cargo/registry`,
  go: `${SESSION_HOME}/go/pkg/mod`,
  maven: `${SESSION_HOME}/.m2/repository`,
  gradle: `${SESSION_HOME}/.gradle/caches`,
  apt: '/var/cache/apt/archives',
};

export interface CacheMount {
  name: string;
  target: string;
}

/** "--cache npm" or "--cache NAME:/abs/path". */
export function parseCache(entry: string, flag = '--cache'): CacheMount {
  const colon = entry.indexOf(':');
  const name = colon === -1 ? entry : entry.slice(0, colon);
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name)) throw new UsageError(`${flag}: invalid cache name "${name}" (lower-case letters, digits, _ . -)`);
  if (colon === -1) {
    const target = KNOWN_CACHES[name];
    if (!target) {
      throw new UsageError(`${flag}: unknown cache "${name}"; give its path as ${name}:/path (known: ${Object.keys(KNOWN_CACHES).join(', ')})`);
    }
    return { name, target };
  }
  const target = posix.normalize(entry.slice(colon + 1)).replace(/(.)\/+$/, '$1');
  if (!target.startsWith('/') || target === '/') throw new UsageError(`${flag}: "${entry}": the cache path must be an absolute directory`);
  return { name, target };
}

export type WorkspaceMode = 'bind' | 'ro' | 'copy';

export function parseWorkspaceMode(value: string, flag = '--workspace-mode'): WorkspaceMode {
  if (value === 'bind' || value === 'ro' || value === 'copy') return value;
  throw new UsageError(`${flag}: unknown workspace mode "${value}" (use bind, ro or copy)`);
}
