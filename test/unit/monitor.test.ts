import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { blockIo, cpuPercent, memoryUsage, networkTotals, toMetrics, type Metrics, type RawStats } from '../../src/engine/stats.js';
import { AlertTracker, DEFAULT_THRESHOLDS, endAlerts, oomAlert, stopAlerts } from '../../src/monitor/alerts.js';
import { summarize } from '../../src/monitor/history.js';
import { renderHistory, sparkline } from '../../src/monitor/render.js';
import { alignColumns } from '../../src/output.js';
import { SessionSampler } from '../../src/monitor/sampler.js';
import { resolveMonitorSettings } from '../../src/monitor/settings.js';
import { Supervisor } from '../../src/monitor/supervisor.js';
import { checkHealth, checkMonitor } from '../../src/config/sections.js';
import { validateConfig } from '../../src/config/schema.js';
import { resolveHealth } from '../../src/sessions/health.js';
import { createBody, type SessionSpec } from '../../src/sessions/spec.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as RawStats;
/** Captured from this machine's Docker 20.10 (cgroup v1): a busy loop under a 256 MiB limit, after writing 20 MiB of page cache. */
const v1 = fixture('docker-stats-cgroup1.json');
/** The same container a moment later, read with one-shot=true: no precpu_stats. */
const v1OneShot = fixture('docker-stats-cgroup1-oneshot.json');
const v2 = fixture('docker-stats-cgroup2.json');

describe('stats arithmetic (docker CLI formulas)', () => {
  it('computes CPU % from precpu_stats, times the online CPUs', () => {
    // (2451749245 - 1696718066) / (4932220000000 - 4930220000000) * 2 CPUs * 100
    expect(cpuPercent(v1)).toBeCloseTo(75.5031179, 6);
    // v2 has no percpu_usage: online_cpus alone counts. 1e9 / 4e9 * 4 * 100
    expect(cpuPercent(v2)).toBeCloseTo(100, 6);
  });

  it('computes CPU % between two one-shot samples, and refuses to guess from one', () => {
    expect(cpuPercent(v1OneShot)).toBeNull();
    // (3182721752 - 2451749245) / (4934220000000 - 4932220000000) * 2 * 100
    expect(cpuPercent(v1OneShot, v1)).toBeCloseTo(73.0972507, 6);
    // Counters that went backwards (a restart) are an idle interval, not a negative one.
    expect(cpuPercent(v1, v1OneShot)).toBeNull();
  });

  it('counts memory as usage minus inactive file cache (total_inactive_file on v1, inactive_file on v2)', () => {
    expect(memoryUsage(v1.memory_stats)).toBe(21889024 - 20971520);
    expect(memoryUsage(v2.memory_stats)).toBe(52428800 - 31457280);
    expect(memoryUsage({ usage: 100, stats: {} })).toBe(100);
    expect(memoryUsage({ usage: 100, stats: { total_inactive_file: 500 } })).toBe(100);
  });

  it('sums network over every interface', () => {
    expect(networkTotals(v1.networks)).toEqual({ rx: 736, tx: 0 });
    expect(networkTotals(v2.networks)).toEqual({ rx: 1024, tx: 276 });
    expect(networkTotals(undefined)).toEqual({ rx: 0, tx: 0 });
  });

  it('reads block I/O from the cgroup counters, and reports none as unavailable, never 0', () => {
    expect(blockIo(v2.blkio_stats)).toEqual({ read: 4097000, write: 8192 });
    expect(blockIo({ io_service_bytes_recursive: [{ op: 'Read', value: 5 }, { op: 'Write', value: 7 }, { op: 'Total', value: 12 }] }))
      .toEqual({ read: 5, write: 7 });
    // This kernel gives no counters (captured): an empty list.
    expect(blockIo(v1.blkio_stats)).toEqual({ read: null, write: null });
    expect(blockIo({ io_service_bytes_recursive: null })).toEqual({ read: null, write: null });
    expect(blockIo(undefined)).toEqual({ read: null, write: null });
  });

  it('gathers a whole sample, with the limit and the percentage of it', () => {
    expect(toMetrics(v1)).toEqual({
      cpuPercent: expect.closeTo(75.5031179, 6),
      memoryBytes: 917504,
      memoryLimitBytes: 268435456,
      memoryPercent: expect.closeTo((917504 / 268435456) * 100, 9),
      netRxBytes: 736,
      netTxBytes: 0,
      blockReadBytes: null,
      blockWriteBytes: null,
      pids: 1,
    });
    expect(toMetrics(v2).pids).toBe(7);
  });
});

const metrics = (cpu: number | null, memoryPercent: number): Metrics => ({
  cpuPercent: cpu, memoryBytes: memoryPercent * 1024 * 1024, memoryLimitBytes: 100 * 1024 * 1024, memoryPercent,
  netRxBytes: 0, netTxBytes: 0, blockReadBytes: null, blockWriteBytes: null, pids: 1,
});

describe('alerts', () => {
  it('fires CPU (warning) and memory (critical) above the thresholds', () => {
    const tracker = new AlertTracker({ ...DEFAULT_THRESHOLDS, after: 1 });
    expect(tracker.check(metrics(50, 50))).toEqual([]);
    const alerts = tracker.check(metrics(99, 95));
    expect(alerts.map((a) => [a.kind, a.severity, a.value, a.threshold])).toEqual([['cpu', 'warning', 99, 95], ['memory', 'critical', 95, 90]]);
    expect(alerts[1]!.message).toBe('memory 95% of the 100 MiB limit > 90%');
  });

  it('waits for N consecutive samples, and a dip resets the streak', () => {
    const tracker = new AlertTracker({ cpuPercent: 80, memoryPercent: 90, after: 3 });
    expect(tracker.check(metrics(90, 0))).toEqual([]);
    expect(tracker.check(metrics(90, 0))).toEqual([]);
    expect(tracker.check(metrics(10, 0))).toEqual([]);
    expect(tracker.check(metrics(90, 0))).toEqual([]);
    expect(tracker.check(metrics(90, 0))).toEqual([]);
    expect(tracker.check(metrics(90, 0)).map((a) => a.message)).toEqual(['CPU 90% > 80% for 3 samples']);
  });

  it('turns an OOM kill or a failing exit into an alert, not a clean stop', () => {
    expect(stopAlerts({ oomKilled: true, exitCode: 137 }, 512 * 1024 * 1024)[0]!.message).toBe('out of memory: a process was killed at the 512 MiB limit');
    expect(stopAlerts({ oomKilled: false, exitCode: 2 }, 0).map((a) => [a.kind, a.value])).toEqual([['exit', 2]]);
    expect(stopAlerts({ oomKilled: false, exitCode: 0 }, 0)).toEqual([]);
    expect(stopAlerts({ oomKilled: false, exitCode: 143 }, 0)).toEqual([]);
  });

  it('ends a session\'s watch with the alerts no sample carried, and one OOM alert however it was learnt', () => {
    const limit = 32 * 1024 * 1024;
    const oomKilled = { oomKilled: true, exitCode: 137 };
    // The OOM event came, then the session ended before the next sample: its alert goes out on the last line.
    expect(endAlerts([oomAlert(limit)], oomKilled, limit, true)).toEqual([oomAlert(limit)]);
    // A sample already carried it: not again.
    expect(endAlerts([], oomKilled, limit, true)).toEqual([]);
    // No event seen (the engine sends none): the stop's own state says it.
    expect(endAlerts([], oomKilled, limit, false)).toEqual([oomAlert(limit)]);
    expect(endAlerts([], { oomKilled: false, exitCode: 3 }, limit, false).map((a) => a.kind)).toEqual(['exit']);
  });

  it('primes on the first reading, then samples with the documented fields in order', () => {
    const sampler = new SessionSampler('id', 'agent', { ...DEFAULT_THRESHOLDS, after: 1 });
    expect(sampler.measure(v1OneShot, 'none', new Date(0))).toBeUndefined();
    // One second later, 0.7311 s more CPU time over 2 CPUs.
    const cpu = v1OneShot.cpu_stats!;
    const later: RawStats = { ...v1OneShot, cpu_stats: { ...cpu, cpu_usage: { total_usage: cpu.cpu_usage!.total_usage! + 731_100_000 }, system_cpu_usage: cpu.system_cpu_usage! + 2e9 } };
    const sample = sampler.measure(later, 'healthy', new Date(0))!;
    expect(Object.keys(sample)).toEqual([
      'session', 'time', 'cpuPercent', 'memoryBytes', 'memoryLimitBytes', 'memoryPercent', 'netRxBytes', 'netTxBytes',
      'blockReadBytes', 'blockWriteBytes', 'pids', 'health', 'alerts',
    ]);
    expect(sample.cpuPercent).toBe(73.11);
    expect(sample.health).toBe('healthy');
    expect(sampler.cpuTrend).toEqual([expect.closeTo(73.11, 6)]);
  });
});

describe('supervisor', () => {
  it('restarts at once, then backs off doubling, and gives up after the maximum', () => {
    const s = new Supervisor({ maxRestarts: 2, backoffMs: 1000 });
    expect(s.decide('a', 'restart', 'healthy', 0)).toBeUndefined();
    expect(s.decide('a', 'restart', 'unhealthy', 0)).toEqual({ action: 'restart', restarts: 1 });
    expect(s.decide('a', 'restart', 'unhealthy', 999)).toBeUndefined();
    expect(s.decide('a', 'restart', 'unhealthy', 1000)).toEqual({ action: 'restart', restarts: 2 });
    expect(s.decide('a', 'restart', 'unhealthy', 1500)).toEqual({ action: 'give-up', restarts: 2 });
    expect(s.decide('a', 'restart', 'unhealthy', 99_999)).toBeUndefined();
  });

  it('stops once, and leaves sessions without a policy alone', () => {
    const s = new Supervisor({ maxRestarts: 3, backoffMs: 0 });
    expect(s.decide('b', 'stop', 'unhealthy', 0)).toEqual({ action: 'stop' });
    expect(s.decide('b', 'stop', 'unhealthy', 1)).toBeUndefined();
    expect(s.decide('c', 'none', 'unhealthy', 0)).toBeUndefined();
  });
});

describe('monitor settings', () => {
  it('defaults to 2s, 95 % CPU, 90 % memory, 3 samples (1 with --once)', () => {
    const streaming = resolveMonitorSettings({});
    expect(streaming.intervalMs).toBe(2000);
    expect(streaming.thresholds).toEqual({ cpuPercent: 95, memoryPercent: 90, after: 3 });
    expect(resolveMonitorSettings({ once: true }).thresholds.after).toBe(1);
    expect(resolveMonitorSettings({ once: true }).count).toBe(1);
  });

  it('takes flags over the config, and the config over the defaults', () => {
    const config = { cpuAlert: 50, memAlert: 60, alertAfter: 2, interval: '1s' };
    expect(resolveMonitorSettings({}, config).thresholds).toEqual({ cpuPercent: 50, memoryPercent: 60, after: 2 });
    expect(resolveMonitorSettings({ cpuAlert: '70%', alertAfter: '4', interval: '500ms' }, config)).toMatchObject({
      intervalMs: 500, thresholds: { cpuPercent: 70, memoryPercent: 60, after: 4 },
    });
  });

  it('names the flag at fault', () => {
    expect(() => resolveMonitorSettings({ cpuAlert: 'lots' })).toThrow('--cpu-alert: expected a percentage above 0, got "lots"');
    expect(() => resolveMonitorSettings({ interval: '10ms' })).toThrow('--interval: at least 200ms');
    expect(() => resolveMonitorSettings({ once: true, alertAfter: '3' })).toThrow('--alert-after 3 needs that many samples');
    expect(() => resolveMonitorSettings({ once: true, supervise: true })).toThrow('--supervise');
    expect(() => resolveMonitorSettings({ maxRestarts: '2' })).toThrow('--max-restarts applies to --supervise');
  });
});

describe('health checks', () => {
  const base: SessionSpec = {
    name: 'x', image: 'i', command: [], env: [], volumes: [], labels: {}, ports: [], user: '1000:1000', network: 'bridge',
    memory: 1 << 30, nanoCpus: 1e9, pids: 10, interactive: false, tty: false, detach: true, ownership: {},
  };

  it('sets the engine health check in nanoseconds, with the documented defaults', () => {
    const { healthcheck, labels } = resolveHealth({ healthCmd: 'test -f /tmp/ok' });
    expect(labels).toEqual({});
    expect(createBody({ ...base, healthcheck }).Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 5e9, Timeout: 5e9, StartPeriod: 10e9, Retries: 3,
    });
    expect(createBody(base).Healthcheck).toBeUndefined();
  });

  it('takes flags over the config, and labels the policy and --record', () => {
    const resolved = resolveHealth(
      { healthInterval: '1s', onUnhealthy: 'restart', record: true },
      { cmd: 'true', interval: '30s', retries: 5, onUnhealthy: 'stop' },
    );
    expect(resolved.healthcheck).toMatchObject({ command: 'true', intervalMs: 1000, retries: 5 });
    expect(resolved.labels).toEqual({ 'aca.on-unhealthy': 'restart', 'aca.record': 'true' });
    expect(resolveHealth({}, {}, { record: true }).labels).toEqual({ 'aca.record': 'true' });
  });

  it('refuses timing or a policy without a check, and bad values', () => {
    expect(() => resolveHealth({ healthInterval: '1s' })).toThrow('--health-interval needs a health check');
    expect(() => resolveHealth({ onUnhealthy: 'restart' })).toThrow('--on-unhealthy restart needs a health check');
    expect(() => resolveHealth({ healthCmd: 'x', onUnhealthy: 'reboot' })).toThrow('--on-unhealthy: expected restart, stop or none');
    expect(() => resolveHealth({ healthCmd: 'x', healthRetries: '0' })).toThrow('--health-retries');
    expect(() => resolveHealth({ healthCmd: 'x', healthTimeout: '0s' })).toThrow('--health-timeout: must be at least 1ms');
  });
});

describe('config sections', () => {
  it('accepts health: and monitor: in their documented shape', () => {
    expect(validateConfig({ health: { cmd: 'curl -f localhost', interval: '10s', retries: 2, onUnhealthy: 'restart' }, monitor: { record: true, cpuAlert: 80 } }, 'f'))
      .toEqual({ health: { cmd: 'curl -f localhost', interval: '10s', retries: 2, onUnhealthy: 'restart' }, monitor: { record: true, cpuAlert: 80 } });
  });

  it('names the file and key at fault', () => {
    expect(() => checkHealth({ interval: 'soon' }, '/p/.acarc: key "health"')).toThrow('/p/.acarc: key "health".interval: invalid duration "soon"');
    expect(() => checkHealth({ onUnhealthy: 'reboot' }, 'f')).toThrow('f.onUnhealthy: expected restart, stop or none');
    expect(() => checkMonitor({ record: 'yes' }, 'f')).toThrow('f.record: expected true or false');
    expect(() => checkMonitor({ cpuAlarm: 5 }, 'f')).toThrow('f.cpuAlarm: unknown key');
    expect(() => validateConfig({ monitor: [] }, 'f')).toThrow('f: key "monitor": expected a map of settings');
  });
});

describe('history', () => {
  const line = (time: string, cpu: number, mem: number, alerts: object[] = []) => JSON.stringify({
    session: 's', time, cpuPercent: cpu, memoryBytes: mem, memoryLimitBytes: 100, memoryPercent: mem, netRxBytes: 1, netTxBytes: 2,
    blockReadBytes: null, blockWriteBytes: null, pids: 3, health: 'none', alerts,
  });

  it('summarises min, average and max per metric and the alerts seen, skipping torn lines', () => {
    const cpuAlert = { kind: 'cpu', value: 99, threshold: 95, severity: 'warning', message: 'CPU 99% > 95%' };
    const summary = summarize('s', [
      line('t1', 10, 20),
      line('t2', 99, 40, [cpuAlert]),
      line('t3', 50, 30, [{ ...cpuAlert, value: 97, message: 'CPU 97% > 95%' }]),
      JSON.stringify({ session: 's', time: 't4', event: 'exited', exitCode: 137, oomKilled: true, alerts: [{ kind: 'oom', value: 100, threshold: 100, message: 'out of memory' }] }),
      '{"session":"s","ti',
    ]);
    expect(summary.samples).toBe(3);
    expect([summary.from, summary.to]).toEqual(['t1', 't4']);
    expect(summary.metrics.cpuPercent).toEqual({ min: 10, avg: 53, max: 99 });
    expect(summary.metrics.memoryBytes).toEqual({ min: 20, avg: 30, max: 40 });
    expect(summary.metrics.blockReadBytes).toBeNull();
    expect(summary.alerts.map((a) => [a.kind, a.count, a.first, a.last, a.message])).toEqual([
      ['cpu', 2, 't2', 't3', 'CPU 99% > 95%'],
      ['oom', 1, 't4', 't4', 'out of memory'],
    ]);
    const text = renderHistory(summary);
    expect(text).toContain('history of s: 3 samples, t1 to t4');
    expect(text).toMatch(/block read\s+unavailable/);
    expect(text).toContain('cpu: 2x, t2 to t3; worst: CPU 99% > 95%');
  });
});

describe('rendering', () => {
  it('draws sparklines on a 0-100 scale, raised by larger values', () => {
    expect(sparkline([0, 50, 100])).toBe('▁▅█');
    expect(sparkline([100, 200])).toBe('▅█');
    expect(sparkline([])).toBe('');
  });

  it('aligns columns on visible width, ignoring colour codes', () => {
    expect(alignColumns([['\x1b[31mab\x1b[39m', 'x'], ['abcd', 'y']], '  ')).toBe('\x1b[31mab\x1b[39m    x\nabcd  y');
  });
});
