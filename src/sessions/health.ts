/**
 * A session's health check and supervision settings, from flags over the
 * config's `health:` and `monitor:` sections. The policy and the recording
 * choice travel as labels, so `aca monitor` finds them on any session.
 */
import { parseUnhealthyPolicy, type HealthConfig, type MonitorConfig, type UnhealthyPolicy } from '../config/sections.js';
import { UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from '../parse.js';
import { LABEL } from '../labels.js';
import type { HealthcheckSpec } from './spec.js';

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: string;
  onUnhealthy?: string;
  record?: boolean;
}

export const HEALTH_DEFAULTS = { interval: '5s', timeout: '5s', startPeriod: '10s', retries: 3 } as const;

export interface ResolvedHealth {
  healthcheck: HealthcheckSpec | undefined;
  /** Labels for the session: the unhealthy policy and the recording choice. */
  labels: Record<string, string>;
}

export function resolveHealth(flags: HealthFlags, health: HealthConfig = {}, monitor: MonitorConfig = {}): ResolvedHealth {
  const command = flags.healthCmd ?? health.cmd;
  const timing: Array<[string | undefined, string]> = [
    [flags.healthInterval, '--health-interval'], [flags.healthTimeout, '--health-timeout'],
    [flags.healthStartPeriod, '--health-start-period'], [flags.healthRetries, '--health-retries'],
  ];
  const orphan = timing.find(([value]) => value !== undefined);
  if (!command && orphan) throw new UsageError(`${orphan[1]} needs a health check: add --health-cmd CMD`);
  if (command !== undefined && command.trim() === '') throw new UsageError('--health-cmd: the command is empty');

  const policy: UnhealthyPolicy = flags.onUnhealthy !== undefined
    ? parseUnhealthyPolicy(flags.onUnhealthy)
    : (health.onUnhealthy ?? 'none');
  if (policy !== 'none' && !command) {
    throw new UsageError(`--on-unhealthy ${policy} needs a health check: add --health-cmd CMD`);
  }

  const healthcheck = command
    ? {
        command,
        intervalMs: positiveDuration(flags.healthInterval ?? health.interval ?? HEALTH_DEFAULTS.interval, flags.healthInterval ? '--health-interval' : 'health.interval'),
        timeoutMs: positiveDuration(flags.healthTimeout ?? health.timeout ?? HEALTH_DEFAULTS.timeout, flags.healthTimeout ? '--health-timeout' : 'health.timeout'),
        startPeriodMs: parseDuration(flags.healthStartPeriod ?? health.startPeriod ?? HEALTH_DEFAULTS.startPeriod, '--health-start-period'),
        retries: flags.healthRetries !== undefined ? parsePositiveInt(flags.healthRetries, '--health-retries') : (health.retries ?? HEALTH_DEFAULTS.retries),
      }
    : undefined;

  const labels: Record<string, string> = {};
  if (policy !== 'none') labels[LABEL.onUnhealthy] = policy;
  if (flags.record ?? monitor.record) labels[LABEL.record] = 'true';
  return { healthcheck, labels };
}

/** The engine refuses a zero interval or timeout (it would mean "inherit"), so say so first. */
function positiveDuration(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms < 1) throw new UsageError(`${flag}: must be at least 1ms, got "${value}"`);
  return ms;
}
