/**
 * One watched session: its previous stats (CPU % needs two), its alert
 * streaks and a short trend for the sparklines. Turns a raw stats answer into
 * the sample aca prints, records and alerts on.
 */
import { type Engine, type Metrics, type RawStats, toMetrics } from '../engine/index.js';
import { AlertTracker, type Alert, type Thresholds } from './alerts.js';

export type Health = 'starting' | 'healthy' | 'unhealthy' | 'none';

/** One NDJSON line of `aca monitor --json`; the field order is the documented one. */
export interface Sample extends Metrics {
  session: string;
  time: string;
  health: Health;
  alerts: Alert[];
}

/** A watched session that stopped or vanished: reported once, then dropped. */
export interface SessionEnd {
  session: string;
  time: string;
  event: 'exited' | 'removed';
  exitCode?: number;
  oomKilled?: boolean;
  alerts: Alert[];
}

/** How many samples the sparklines show. */
export const TREND_LENGTH = 12;

const round2 = (n: number) => Math.round(n * 100) / 100;

export function toHealth(value: string | undefined): Health {
  return value === 'starting' || value === 'healthy' || value === 'unhealthy' ? value : 'none';
}

export class SessionSampler {
  private previous: RawStats | undefined;
  private readonly tracker: AlertTracker;
  readonly cpuTrend: number[] = [];
  readonly memoryTrend: number[] = [];
  /** Alerts learnt between samples (an OOM event), attached to the next one. */
  readonly pending: Alert[] = [];
  /** The memory limit last seen, for OOM messages. */
  limitBytes = 0;
  oomReported = false;

  constructor(readonly id: string, readonly name: string, thresholds: Thresholds) {
    this.tracker = new AlertTracker(thresholds);
  }

  /** The first reading spans about a second on its own, so the first sample is there at once; later ones pair with the previous. */
  read(engine: Engine, timeoutMs: number): Promise<RawStats> {
    return this.previous ? engine.containerStats(this.id, { oneShot: true, timeoutMs }) : engine.containerStatsOverSpan(this.id, timeoutMs);
  }

  /** Forget the previous counters (after a restart they start again from zero). */
  reset(): void {
    this.previous = undefined;
  }

  /**
   * The sample for this reading, or undefined when CPU % cannot be known yet
   * (no previous reading and no precpu_stats in this one).
   */
  measure(raw: RawStats, health: Health, now: Date): Sample | undefined {
    const metrics = toMetrics(raw, this.previous);
    this.previous = raw;
    if (metrics.memoryLimitBytes > 0) this.limitBytes = metrics.memoryLimitBytes;
    if (metrics.cpuPercent === null) return undefined;
    push(this.cpuTrend, metrics.cpuPercent);
    push(this.memoryTrend, metrics.memoryPercent);
    const alerts = [...this.pending.splice(0), ...this.tracker.check(metrics)];
    return {
      session: this.name,
      time: now.toISOString(),
      cpuPercent: round2(metrics.cpuPercent),
      memoryBytes: metrics.memoryBytes,
      memoryLimitBytes: metrics.memoryLimitBytes,
      memoryPercent: round2(metrics.memoryPercent),
      netRxBytes: metrics.netRxBytes,
      netTxBytes: metrics.netTxBytes,
      blockReadBytes: metrics.blockReadBytes,
      blockWriteBytes: metrics.blockWriteBytes,
      pids: metrics.pids,
      health,
      alerts,
    };
  }
}

function push(trend: number[], value: number): void {
  trend.push(value);
  if (trend.length > TREND_LENGTH) trend.shift();
}
