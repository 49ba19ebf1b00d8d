/**
 * Sample history of sessions that asked for it (--record): one NDJSON file
 * per session in the user's state directory, $XDG_STATE_HOME/aca/history
 * (default ~/.local/state/aca/history), and its summary for --history.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AcaError } from '../errors.js';
import { ensureStateDir, stateDir } from '../state-dir.js';
import { validateSessionName } from '../parse.js';
import type { Alert } from './alerts.js';
import type { Sample, SessionEnd } from './sampler.js';

export function historyDir(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'history');
}

export function historyFile(env: NodeJS.ProcessEnv, session: string): string {
  return join(historyDir(env), `${session}.ndjson`);
}

/** Appends records; a failing disk is reported once, never fatal to the monitor. */
export class HistoryWriter {
  private ready: Promise<unknown> | undefined;
  private warned = false;

  constructor(private readonly env: NodeJS.ProcessEnv, private readonly warn: (line: string) => void) {}

  async append(record: Sample | SessionEnd): Promise<void> {
    try {
      // The state directory first, private to the user as the audit trail needs it, whoever makes it first.
      this.ready ??= Promise.resolve().then(() => ensureStateDir(this.env)).then(() => mkdir(historyDir(this.env), { recursive: true }));
      await this.ready;
      await appendFile(historyFile(this.env, record.session), `${JSON.stringify(record)}\n`);
    } catch (error) {
      if (!this.warned) this.warn(`cannot record history in ${historyDir(this.env)}: ${(error as Error).message}`);
      this.warned = true;
    }
  }
}

export interface Range {
  min: number;
  avg: number;
  max: number;
}

export const HISTORY_METRICS = [
  'cpuPercent', 'memoryBytes', 'memoryPercent', 'netRxBytes', 'netTxBytes', 'blockReadBytes', 'blockWriteBytes', 'pids',
] as const;
export type HistoryMetric = (typeof HISTORY_METRICS)[number];

export interface AlertSummary {
  kind: Alert['kind'];
  count: number;
  first: string;
  last: string;
  maxValue: number;
  threshold: number;
  message: string;
}

export interface HistorySummary {
  session: string;
  samples: number;
  from: string | null;
  to: string | null;
  /** null: the metric was never available (block I/O without kernel counters). */
  metrics: Record<HistoryMetric, Range | null>;
  alerts: AlertSummary[];
}

/** Pure: min, average and max per metric, and the alerts seen, from the file's lines. */
export function summarize(session: string, lines: string[]): HistorySummary {
  const values = Object.fromEntries(HISTORY_METRICS.map((m) => [m, [] as number[]])) as Record<HistoryMetric, number[]>;
  const alerts = new Map<string, AlertSummary>();
  let samples = 0;
  let from: string | null = null;
  let to: string | null = null;
  for (const line of lines) {
    if (!line.trim()) continue;
    let record: Partial<Sample & SessionEnd>;
    try {
      record = JSON.parse(line) as Partial<Sample & SessionEnd>;
    } catch {
      continue; // a torn last line from a crash: skip it
    }
    if (record.time) {
      from ??= record.time;
      to = record.time;
    }
    if (!record.event) {
      samples += 1;
      for (const metric of HISTORY_METRICS) {
        const value = record[metric];
        if (typeof value === 'number') values[metric].push(value);
      }
    }
    for (const alert of record.alerts ?? []) {
      const seen = alerts.get(alert.kind);
      if (seen) {
        seen.count += 1;
        seen.last = record.time ?? seen.last;
        if (alert.value >= seen.maxValue) {
          seen.maxValue = alert.value;
          seen.message = alert.message;
        }
      } else {
        alerts.set(alert.kind, {
          kind: alert.kind, count: 1, first: record.time ?? '', last: record.time ?? '',
          maxValue: alert.value, threshold: alert.threshold, message: alert.message,
        });
      }
    }
  }
  const metrics = Object.fromEntries(HISTORY_METRICS.map((m) => {
    const list = values[m];
    if (list.length === 0) return [m, null];
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of list) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    return [m, { min, avg: Math.round((sum / list.length) * 100) / 100, max }];
  })) as Record<HistoryMetric, Range | null>;
  return { session, samples, from, to, metrics, alerts: [...alerts.values()] };
}

export async function readHistory(env: NodeJS.ProcessEnv, session: string): Promise<HistorySummary> {
  // A session name, never a path: the file name is built from it.
  const file = historyFile(env, validateSessionName(session, '--history'));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AcaError(`no history for session ${session} (looked in ${file})`, {
      hint: 'Record a session with: aca run --record ..., or monitor.record: true in the config, then watch it with aca monitor',
    });
  }
  return summarize(session, text.split('\n'));
}
