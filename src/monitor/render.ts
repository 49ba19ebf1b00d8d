/**
 * How monitor output looks: the per-session table with sparklines, the
 * supervisor's action lines and the history summary. Pure string building;
 * colour comes in as a chalk instance (level 0 when colour is off).
 */
import type { ChalkInstance } from 'chalk';
import { alignColumns, humanBytes, humanDuration, truncateVisible, visibleWidth } from '../output.js';
import { HISTORY_METRICS, type HistoryMetric, type HistorySummary } from './history.js';
import type { Health, Sample, SessionEnd } from './sampler.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of values between 0 and `ceiling` (raised to the largest value seen). */
export function sparkline(values: number[], ceiling = 100): string {
  const top = Math.max(ceiling, ...values);
  return values
    .map((v) => BARS[Math.min(BARS.length - 1, Math.max(0, Math.round((v / top) * (BARS.length - 1))))])
    .join('');
}

export interface TableRow {
  sample: Sample;
  cpuTrend: number[];
  memoryTrend: number[];
  startedAt: number | undefined;
}

const percent = (n: number | null) => (n === null ? '-' : `${n.toFixed(1)}%`);
const pair = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${humanBytes(a)} / ${humanBytes(b)}`);

function paintHealth(health: Health, color: ChalkInstance): string {
  if (health === 'healthy') return color.green(health);
  if (health === 'unhealthy') return color.red(health);
  if (health === 'starting') return color.yellow(health);
  return color.dim('-');
}

export const TABLE_HEADERS = ['NAME', 'CPU %', 'CPU TREND', 'MEM USAGE / LIMIT', 'MEM %', 'MEM TREND', 'NET RX / TX', 'BLOCK R / W', 'PIDS', 'HEALTH', 'UPTIME', 'ALERTS'];
/** On a narrow terminal, columns go in this order; NAME, CPU %, MEM % and ALERTS always stay. */
const DROP_ORDER = ['BLOCK R / W', 'NET RX / TX', 'MEM TREND', 'UPTIME', 'CPU TREND', 'PIDS', 'MEM USAGE / LIMIT', 'HEALTH'];
const GAP = '  ';

/**
 * The table of samples. With `width` (a terminal's columns) it fits: the least needed columns are left out
 * until the rest fit, and any line still too wide is cut, so nothing wraps.
 */
export function renderTable(rows: TableRow[], color: ChalkInstance, now: number, width?: number): string {
  const lines = rows.map(({ sample, cpuTrend, memoryTrend, startedAt }) => {
    const kinds = new Set(sample.alerts.map((a) => a.kind));
    const critical = sample.alerts.some((a) => a.severity === 'critical');
    const mark = (text: string, on: boolean, level: 'critical' | 'warning') => (on ? (level === 'critical' ? color.red.bold(text) : color.yellow.bold(text)) : text);
    return [
      sample.alerts.length > 0 ? mark(sample.session, true, critical ? 'critical' : 'warning') : sample.session,
      mark(percent(sample.cpuPercent), kinds.has('cpu'), 'warning'),
      color.cyan(sparkline(cpuTrend)),
      `${humanBytes(sample.memoryBytes)} / ${humanBytes(sample.memoryLimitBytes)}`,
      mark(percent(sample.memoryPercent), kinds.has('memory'), 'critical'),
      color.magenta(sparkline(memoryTrend)),
      pair(sample.netRxBytes, sample.netTxBytes),
      pair(sample.blockReadBytes, sample.blockWriteBytes),
      sample.pids === null ? '-' : String(sample.pids),
      paintHealth(sample.health, color),
      startedAt ? humanDuration(now - startedAt) : '-',
      sample.alerts.map((a) => (a.severity === 'critical' ? color.red(a.message) : color.yellow(a.message))).join('; '),
    ];
  });
  let kept = TABLE_HEADERS.map((_, i) => i);
  if (width !== undefined) {
    const columnWidth = (i: number) => Math.max(TABLE_HEADERS[i]!.length, ...lines.map((cells) => visibleWidth(cells[i]!)));
    const total = () => kept.reduce((sum, i) => sum + columnWidth(i), 0) + GAP.length * (kept.length - 1);
    for (const header of DROP_ORDER) {
      if (total() <= width) break;
      kept = kept.filter((i) => TABLE_HEADERS[i] !== header);
    }
  }
  const table = alignColumns([kept.map((i) => color.bold(TABLE_HEADERS[i]!)), ...lines.map((cells) => kept.map((i) => cells[i]!))], GAP);
  return width === undefined ? table : table.split('\n').map((line) => truncateVisible(line, width)).join('\n');
}

export function describeEnd(end: SessionEnd): string {
  if (end.event === 'removed') return `session ${end.session} was removed; no longer watched`;
  const how = end.oomKilled ? `killed for lack of memory (exit ${end.exitCode})` : `exited with code ${end.exitCode}`;
  return `session ${end.session} ${how}; no longer watched`;
}

const METRIC_LABELS: Record<HistoryMetric, [string, (n: number) => string]> = {
  cpuPercent: ['CPU %', (n) => `${n.toFixed(1)}%`],
  memoryBytes: ['memory', humanBytes],
  memoryPercent: ['memory %', (n) => `${n.toFixed(1)}%`],
  netRxBytes: ['net rx', humanBytes],
  netTxBytes: ['net tx', humanBytes],
  blockReadBytes: ['block read', humanBytes],
  blockWriteBytes: ['block write', humanBytes],
  pids: ['pids', (n) => String(Math.round(n))],
};

export function renderHistory(summary: HistorySummary): string {
  const head = summary.samples > 0
    ? `history of ${summary.session}: ${summary.samples} samples, ${summary.from} to ${summary.to}`
    : `history of ${summary.session}: no samples`;
  const rows = HISTORY_METRICS.map((metric) => {
    const [label, format] = METRIC_LABELS[metric];
    const range = summary.metrics[metric];
    return range ? [label, format(range.min), format(range.avg), format(range.max)] : [label, 'unavailable', '', ''];
  });
  const alerts = summary.alerts.length === 0
    ? ['alerts: none']
    : ['alerts:', ...summary.alerts.map((a) => `  ${a.kind}: ${a.count}x, ${a.first} to ${a.last}; worst: ${a.message}`)];
  const table = summary.samples > 0 ? [alignColumns([['METRIC', 'MIN', 'AVG', 'MAX'], ...rows], '   ')] : [];
  return [head, ...table, ...alerts].join('\n');
}
