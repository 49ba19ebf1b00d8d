/**
 * Alert rules, as pure logic: thresholds on CPU and memory that must hold for
 * N consecutive samples, and one-off alerts for an OOM kill or an unexpected
 * exit. The sampler feeds numbers in; what comes out is printed and recorded.
 */
import type { Metrics } from '../engine/index.js';
import { formatMiB } from '../sessions/foreground.js';

export type AlertKind = 'cpu' | 'memory' | 'oom' | 'exit';

export interface Alert {
  kind: AlertKind;
  value: number;
  threshold: number;
  message: string;
  severity: 'warning' | 'critical';
}

export interface Thresholds {
  /** CPU %, as `docker stats` counts it (100 = one full CPU). */
  cpuPercent: number;
  /** % of the memory limit. */
  memoryPercent: number;
  /** Consecutive samples a condition must hold before it alerts. */
  after: number;
}

/**
 * The seed's design: CPU > 95 % is a warning, memory > 90 % of the limit is
 * critical. Streaming, a condition must hold for 3 samples (a 2 s spike is not
 * a runaway); a single --once sample decides alone.
 */
export const DEFAULT_THRESHOLDS: Thresholds = { cpuPercent: 95, memoryPercent: 90, after: 3 };

const round = (n: number) => Math.round(n * 100) / 100;

/** Tracks one session's consecutive breaches. */
export class AlertTracker {
  private cpuStreak = 0;
  private memoryStreak = 0;

  constructor(private readonly thresholds: Thresholds) {}

  /** The alerts active at this sample. */
  check(metrics: Metrics): Alert[] {
    const alerts: Alert[] = [];
    const { cpuPercent, memoryPercent, after } = this.thresholds;
    const cpu = metrics.cpuPercent;
    this.cpuStreak = cpu !== null && cpu > cpuPercent ? this.cpuStreak + 1 : 0;
    this.memoryStreak = metrics.memoryLimitBytes > 0 && metrics.memoryPercent > memoryPercent ? this.memoryStreak + 1 : 0;
    if (this.cpuStreak >= after && cpu !== null) {
      alerts.push({
        kind: 'cpu',
        value: round(cpu),
        threshold: cpuPercent,
        severity: 'warning',
        message: `CPU ${round(cpu)}% > ${cpuPercent}%${after > 1 ? ` for ${this.cpuStreak} samples` : ''}`,
      });
    }
    if (this.memoryStreak >= after) {
      alerts.push({
        kind: 'memory',
        value: round(metrics.memoryPercent),
        threshold: memoryPercent,
        severity: 'critical',
        message: `memory ${round(metrics.memoryPercent)}% of the ${formatMiB(metrics.memoryLimitBytes)} limit > ${memoryPercent}%`
          + (after > 1 ? ` for ${this.memoryStreak} samples` : ''),
      });
    }
    return alerts;
  }
}

/** A process in the session was killed for lack of memory. */
export function oomAlert(limitBytes: number): Alert {
  return {
    kind: 'oom',
    value: limitBytes,
    threshold: limitBytes,
    severity: 'critical',
    message: limitBytes > 0 ? `out of memory: a process was killed at the ${formatMiB(limitBytes)} limit` : 'out of memory: a process was killed',
  };
}

/** The session's command exited with a failure code while it was watched. */
export function exitAlert(exitCode: number): Alert {
  return { kind: 'exit', value: exitCode, threshold: 0, severity: 'critical', message: `exited unexpectedly with code ${exitCode}` };
}

/**
 * The alerts on the line that says a watched session ended: those learnt since its last sample (an OOM event), which
 * no later sample will carry, then what its stop deserves, without a second OOM alert for an OOM already reported.
 */
export function endAlerts(unsent: Alert[], state: { oomKilled: boolean; exitCode: number }, limitBytes: number, oomReported: boolean): Alert[] {
  return [...unsent, ...stopAlerts(state, limitBytes).filter((a) => !(a.kind === 'oom' && oomReported))];
}

/** Whether a session that stopped while watched deserves an alert, and which. */
export function stopAlerts(state: { oomKilled: boolean; exitCode: number }, limitBytes: number): Alert[] {
  if (state.oomKilled) return [oomAlert(limitBytes)];
  // 0 is a clean exit; 143 and 130 are a stop or an interrupt someone asked for.
  if (state.exitCode !== 0 && state.exitCode !== 143 && state.exitCode !== 130) return [exitAlert(state.exitCode)];
  return [];
}
