/**
 * The Engine API's container stats, and the arithmetic that turns them into
 * the numbers `docker stats` shows. Pure, so every rule is unit-tested against
 * stats captured from a real engine. Every field is optional: Docker on
 * cgroup v1 and v2 and Podman's compat API each leave different ones out, so
 * all field access goes through this file.
 */

/** GET /containers/{id}/stats?stream=false, the parts aca reads. */
export interface RawStats {
  read?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: {
    usage?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: {
    io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null;
  };
  pids_stats?: { current?: number; limit?: number };
}

export interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** One measurement of a session, in the units aca reports. */
export interface Metrics {
  /** 100 % is one full CPU, as `docker stats` counts; null until two samples exist. */
  cpuPercent: number | null;
  memoryBytes: number;
  memoryLimitBytes: number;
  memoryPercent: number;
  netRxBytes: number;
  netTxBytes: number;
  /** null: the kernel gives no block I/O counters for this cgroup. Never a made-up 0. */
  blockReadBytes: number | null;
  blockWriteBytes: number | null;
  pids: number | null;
}

/** A CPU reading usable as one end of a CPU % interval. */
function cpuReading(cpu: CpuStats | undefined): { total: number; system: number; cpus: number } | undefined {
  const total = cpu?.cpu_usage?.total_usage;
  const system = cpu?.system_cpu_usage;
  if (typeof total !== 'number' || typeof system !== 'number' || system <= 0) return undefined;
  const cpus = cpu?.online_cpus || cpu?.cpu_usage?.percpu_usage?.length || 0;
  return { total, system, cpus };
}

/**
 * The docker CLI's formula: the container's share of all host CPU time over
 * the interval, times the number of online CPUs. `previous` is the earlier
 * sample; without one, the engine's own precpu_stats are used when it filled
 * them (stream=false without one-shot). null when no interval is known.
 */
export function cpuPercent(current: RawStats, previous?: RawStats): number | null {
  const now = cpuReading(current.cpu_stats);
  const before = cpuReading(previous ? previous.cpu_stats : current.precpu_stats);
  if (!now || !before) return null;
  const cpuDelta = now.total - before.total;
  const systemDelta = now.system - before.system;
  if (systemDelta <= 0) return null;
  if (cpuDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * (now.cpus || 1) * 100;
}

/**
 * Memory in use as the docker CLI counts it: usage minus the inactive page
 * cache (total_inactive_file on cgroup v1, inactive_file on v2), which the
 * kernel reclaims before it would OOM-kill anything.
 */
export function memoryUsage(memory: RawStats['memory_stats']): number {
  const usage = memory?.usage ?? 0;
  const stats = memory?.stats ?? {};
  const v1 = stats.total_inactive_file;
  if (typeof v1 === 'number' && v1 < usage) return usage - v1;
  const v2 = stats.inactive_file;
  if (typeof v2 === 'number' && v2 < usage) return usage - v2;
  return usage;
}

/** Bytes received and sent, summed over every interface. */
export function networkTotals(networks: RawStats['networks']): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const iface of Object.values(networks ?? {})) {
    rx += iface.rx_bytes ?? 0;
    tx += iface.tx_bytes ?? 0;
  }
  return { rx, tx };
}

/**
 * Block I/O from the cgroup's counters (blkio on v1, io.stat on v2; the op is
 * "Read"/"Write" on v1 and "read"/"write" on v2). An absent or empty list
 * means the kernel gave no counters: that is reported as unavailable (null).
 */
export function blockIo(blkio: RawStats['blkio_stats']): { read: number | null; write: number | null } {
  const entries = blkio?.io_service_bytes_recursive;
  if (!entries || entries.length === 0) return { read: null, write: null };
  let read = 0;
  let write = 0;
  for (const entry of entries) {
    const op = entry.op?.[0]?.toLowerCase();
    if (op === 'r') read += entry.value ?? 0;
    else if (op === 'w') write += entry.value ?? 0;
  }
  return { read, write };
}

/** All of a sample's numbers; `previous` is the same session's earlier sample, if any. */
export function toMetrics(current: RawStats, previous?: RawStats): Metrics {
  const memoryBytes = memoryUsage(current.memory_stats);
  const memoryLimitBytes = current.memory_stats?.limit ?? 0;
  const net = networkTotals(current.networks);
  const block = blockIo(current.blkio_stats);
  return {
    cpuPercent: cpuPercent(current, previous),
    memoryBytes,
    memoryLimitBytes,
    memoryPercent: memoryLimitBytes > 0 ? (memoryBytes / memoryLimitBytes) * 100 : 0,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    blockReadBytes: block.read,
    blockWriteBytes: block.write,
    pids: typeof current.pids_stats?.current === 'number' ? current.pids_stats.current : null,
  };
}
