/**
 * The nested configuration sections `health:` and `monitor:`. Their keys
 * mirror the flags (--health-cmd → health.cmd, --cpu-alert → monitor.cpuAlert)
 * and are validated with the flags' own parsers, naming the file and key.
 */
import { ConfigError, UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../parse.js';

export type UnhealthyPolicy = 'restart' | 'stop' | 'none';

export interface HealthConfig {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
  onUnhealthy?: UnhealthyPolicy;
}

export interface MonitorConfig {
  interval?: string;
  cpuAlert?: number;
  memAlert?: number;
  alertAfter?: number;
  record?: boolean;
}

export function parseUnhealthyPolicy(value: string, flag = '--on-unhealthy'): UnhealthyPolicy {
  if (value === 'restart' || value === 'stop' || value === 'none') return value;
  throw new UsageError(`${flag}: expected restart, stop or none, got "${value}"`);
}

/** A percentage threshold: a number above 0 (CPU may exceed 100 on several CPUs). */
export function parsePercent(value: string, flag: string): number {
  const text = value.trim().replace(/%$/, '');
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`${flag}: expected a percentage above 0, got "${value}"`);
  return Number(text);
}

function section(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}: expected a map of settings`);
  return value as Record<string, unknown>;
}

/** Run a flag parser on a config value, re-labelling its error with the file and key. */
function checked<T>(where: string, value: unknown, parse: (text: string) => T): T {
  if (typeof value !== 'string' && typeof value !== 'number') throw new ConfigError(`${where}: expected a string or a number`);
  try {
    return parse(String(value));
  } catch (error) {
    if (error instanceof UsageError) throw new ConfigError(`${where}: ${error.message.replace(/^[^:]+: /, '')}`);
    throw error;
  }
}

function unknownKey(where: string, key: string, known: string[]): never {
  throw new ConfigError(`${where}.${key}: unknown key`, { hint: `Known keys: ${known.join(', ')}` });
}

const HEALTH_KEYS = ['cmd', 'interval', 'timeout', 'startPeriod', 'retries', 'onUnhealthy'];

export function checkHealth(value: unknown, where: string): HealthConfig {
  const out: HealthConfig = {};
  for (const [key, raw] of Object.entries(section(value, where))) {
    const at = `${where}.${key}`;
    switch (key) {
      case 'cmd':
        if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(`${at}: expected a non-empty string`);
        out.cmd = raw;
        break;
      case 'interval':
      case 'timeout':
      case 'startPeriod':
        checked(at, raw, (v) => parseDuration(v, key));
        out[key] = String(raw);
        break;
      case 'retries':
        out.retries = checked(at, raw, (v) => parsePositiveInt(v, key));
        break;
      case 'onUnhealthy':
        out.onUnhealthy = checked(at, raw, (v) => parseUnhealthyPolicy(v, key));
        break;
      default:
        unknownKey(where, key, HEALTH_KEYS);
    }
  }
  return out;
}

const MONITOR_KEYS = ['interval', 'cpuAlert', 'memAlert', 'alertAfter', 'record'];

export function checkMonitor(value: unknown, where: string): MonitorConfig {
  const out: MonitorConfig = {};
  for (const [key, raw] of Object.entries(section(value, where))) {
    const at = `${where}.${key}`;
    switch (key) {
      case 'interval':
        checked(at, raw, (v) => parseDuration(v, key));
        out.interval = String(raw);
        break;
      case 'cpuAlert':
      case 'memAlert':
        out[key] = checked(at, raw, (v) => parsePercent(v, key));
        break;
      case 'alertAfter':
        out.alertAfter = checked(at, raw, (v) => parsePositiveInt(v, key));
        break;
      case 'record':
        if (typeof raw !== 'boolean') throw new ConfigError(`${at}: expected true or false`);
        out.record = raw;
        break;
      default:
        unknownKey(where, key, MONITOR_KEYS);
    }
  }
  return out;
}
