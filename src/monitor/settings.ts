/** `aca monitor` flags over the config's `monitor:` section, validated once. */
import type { MonitorConfig } from '../config/sections.js';
import { parsePercent } from '../config/sections.js';
import { UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../parse.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from './alerts.js';
import { DEFAULT_SUPERVISOR_LIMITS, type SupervisorLimits } from './supervisor.js';

export interface MonitorFlags {
  interval?: string;
  once?: boolean;
  json?: boolean;
  count?: string;
  cpuAlert?: string;
  memAlert?: string;
  alertAfter?: string;
  failOnAlert?: boolean;
  supervise?: boolean;
  maxRestarts?: string;
  backoff?: string;
}

export interface MonitorSettings {
  intervalMs: number;
  once: boolean;
  json: boolean;
  /** Stop after this many samples (each one --interval apart). */
  count: number | undefined;
  thresholds: Thresholds;
  failOnAlert: boolean;
  /** Set with --supervise. */
  supervise: SupervisorLimits | undefined;
}

export const DEFAULT_INTERVAL = '2s';
/** Faster than this and the monitor would measure itself more than the sessions. */
const MIN_INTERVAL_MS = 200;

export function resolveMonitorSettings(flags: MonitorFlags, config: MonitorConfig = {}): MonitorSettings {
  const once = Boolean(flags.once);
  const intervalFlag = flags.interval ? '--interval' : 'monitor.interval';
  const intervalMs = parseDuration(flags.interval ?? config.interval ?? DEFAULT_INTERVAL, intervalFlag);
  if (intervalMs < MIN_INTERVAL_MS) throw new UsageError(`${intervalFlag}: at least ${MIN_INTERVAL_MS}ms, got "${flags.interval ?? config.interval}"`);
  if (once && flags.supervise) throw new UsageError('--supervise runs until stopped; it cannot be used with --once');
  if (once && flags.count) throw new UsageError('--count and --once cannot be used together (--once is --count 1)');

  const alertAfterFlag = flags.alertAfter !== undefined ? parsePositiveInt(flags.alertAfter, '--alert-after') : undefined;
  // One --once sample decides alone: a streak of more can never be met.
  if (once && alertAfterFlag !== undefined && alertAfterFlag > 1) {
    throw new UsageError(`--alert-after ${alertAfterFlag} needs that many samples; --once takes one`);
  }
  const thresholds: Thresholds = {
    cpuPercent: flags.cpuAlert !== undefined ? parsePercent(flags.cpuAlert, '--cpu-alert') : (config.cpuAlert ?? DEFAULT_THRESHOLDS.cpuPercent),
    memoryPercent: flags.memAlert !== undefined ? parsePercent(flags.memAlert, '--mem-alert') : (config.memAlert ?? DEFAULT_THRESHOLDS.memoryPercent),
    after: once ? 1 : (alertAfterFlag ?? config.alertAfter ?? DEFAULT_THRESHOLDS.after),
  };
  const supervise = flags.supervise
    ? {
        maxRestarts: flags.maxRestarts !== undefined ? nonNegativeInt(flags.maxRestarts, '--max-restarts') : DEFAULT_SUPERVISOR_LIMITS.maxRestarts,
        backoffMs: flags.backoff !== undefined ? parseDuration(flags.backoff, '--backoff') : DEFAULT_SUPERVISOR_LIMITS.backoffMs,
      }
    : undefined;
  if (!flags.supervise && (flags.maxRestarts !== undefined || flags.backoff !== undefined)) {
    throw new UsageError(`${flags.maxRestarts !== undefined ? '--max-restarts' : '--backoff'} applies to --supervise`);
  }
  return {
    intervalMs,
    once,
    json: Boolean(flags.json),
    count: once ? 1 : flags.count !== undefined ? parsePositiveInt(flags.count, '--count') : undefined,
    thresholds,
    failOnAlert: Boolean(flags.failOnAlert),
    supervise,
  };
}

function nonNegativeInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  return Number(value);
}
