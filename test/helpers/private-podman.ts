/**
 * A Podman API service of a test's own, for fault injection: `podman system service` on its own socket, with its own
 * storage root, run root, temp dir, network configuration directory and containers.conf, so that killing it never
 * touches the Podman other tests use.
 *
 * What "the engine restarts" means for Podman: there is no daemon holding the containers. Each container is watched
 * by its own conmon, which outlives the service; what dies is the API service (SIGKILL), and what comes back is a new
 * service on the same socket and store. A client sees exactly what it sees when a dockerd dies: its connections are
 * cut and new ones are refused until the service is back.
 *
 * Why a containers.conf of its own (CONTAINERS_CONF, which replaces the host's files): the host's default lock type,
 * "shm", is one shared memory segment for every store on the machine, and a Podman that starts on a fresh temp dir
 * "refreshes" its state by freeing every lock in that segment, those of the shared Podman's containers too. With
 * lock_type "file" this store's locks are files in its own temp dir. conmon gets the same CONTAINERS_CONF, so the
 * clean-up it runs when a container exits uses the same locks.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, pingSocket, waitFor } from './remote-engines.js';

/** What a private Podman service needs on the host. */
export const PRIVATE_PODMAN_TOOLS = ['podman', 'conmon'] as const;

export interface PrivatePodman {
  dir: string;
  socket: string;
  /** The podman CLI on this service's store (local mode: it works while the service is down too). */
  podman(args: string[]): string;
  /** Kill the API service with SIGKILL (the containers and their conmons live on). */
  kill(): Promise<void>;
  /** Start the service again on the same socket and store, after kill(). */
  restart(): Promise<void>;
  /**
   * Remove every container, volume and network of the store, stop the service, and remove all of it. `networks`:
   * the networks its sessions had, whose CNI address records Podman (4.3, CNI) leaves in the host's directory.
   */
  stop(networks?: string[]): Promise<void>;
}

/** The host's containers.conf with this store's settings added to its [engine] and [network] tables. */
function containersConf(dir: string): string {
  const hostFile = '/etc/containers/containers.conf';
  const host = existsSync(hostFile) ? readFileSync(hostFile, 'utf8') : '';
  const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  const ours: Record<string, string[]> = {
    engine: [
      'lock_type = "file"',
      'events_logger = "file"',
      'cgroup_manager = "cgroupfs"',
      `conmon_env_vars = ["PATH=${path}", "CONTAINERS_CONF=${join(dir, 'containers.conf')}"]`,
    ],
    network: [`network_config_dir = "${join(dir, 'net')}"`],
  };
  let text = host;
  for (const [table, lines] of Object.entries(ours)) {
    const keys = lines.map((l) => l.split(' ')[0]!);
    const clash = keys.find((key) => new RegExp(`^\\s*${key}\\s*=`, 'm').test(host));
    if (clash) throw new Error(`${hostFile} sets ${clash}, which a private Podman service must set itself`);
    const header = new RegExp(`^\\[${table}\\]\\s*$`, 'm');
    text = header.test(text) ? text.replace(header, `[${table}]\n${lines.join('\n')}`) : `${text}\n[${table}]\n${lines.join('\n')}\n`;
  }
  return text;
}

/** SIGKILL every process whose command line names `dir` (conmons of this store, a service that would not stop). */
export function killProcessesNaming(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone meanwhile */ }
  }
}

/**
 * Remove the host-local IPAM directory of a network that is gone: Podman's CNI backend leaves it behind (with only a
 * lock and a last-reserved-address file) when the network is removed. One that still records an address is left be.
 */
function forgetAddresses(network: string): void {
  const records = join('/var/lib/cni/networks', network);
  if (!existsSync(records)) return;
  if (readdirSync(records).every((f) => f === 'lock' || f.startsWith('last_reserved_ip'))) rmSync(records, { recursive: true, force: true });
}

/**
 * Start a private Podman service, with `images` copied in from the suite's engine at `sourceUrl` (a unix:// URL), and
 * wait until it answers. A start that fails half-way removes what it made.
 */
export async function startPrivatePodman(images: string[], sourceUrl: string): Promise<PrivatePodman> {
  const podmanBin = findTool('podman');
  if (!podmanBin) throw new Error('podman is not installed on this machine');
  const dir = mkdtempSync(join(tmpdir(), 'aca-podd-'));
  const socket = join(dir, 'p.sock');
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const storeFlags = [
    '--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
    '--network-config-dir', join(dir, 'net'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
  ];
  const podman = (args: string[], input?: Buffer) =>
    execFileSync(podmanBin, [...storeFlags, ...args], { env, encoding: 'utf8', stdio: 'pipe', ...(input ? { input } : {}), maxBuffer: 1 << 30 }).trim();
  let service: ChildProcess | undefined;
  const log = join(dir, 'service.log');

  const kill = async () => {
    const running = service;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  };
  const launch = async () => {
    const logFd = openSync(log, 'a');
    const spawned = spawn(podmanBin, [...storeFlags, 'system', 'service', '--time=0', `unix://${socket}`], { env, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    service = spawned;
    await waitFor('the private Podman service', () => spawned.exitCode === null && pingSocket(socket), () => readFileSync(log, 'utf8'));
  };
  const stop = async (networks: string[] = []) => {
    // Through Podman itself first: it tears down what it set up for each container (network, mounts, cgroups).
    for (const args of [['rm', '--all', '--force', '--time', '0'], ['network', 'prune', '--force'], ['volume', 'prune', '--force']]) {
      try { podman(args); } catch { /* the store never came up, or is half made: the steps below still clean */ }
    }
    const running = service;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    // Exec sessions' conmons may outlive their containers; a service that would not stop goes the same way.
    killProcessesNaming(dir);
    try { execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
    rmSync(dir, { recursive: true, force: true });
    for (const network of networks) forgetAddresses(network);
  };

  try {
    mkdirSync(join(dir, 'net'));
    writeFileSync(join(dir, 'containers.conf'), containersConf(dir));
    for (const image of images) {
      // Read from the suite's engine through its API (whatever store it uses), loaded into this store.
      const tar = execFileSync(podmanBin, ['--remote', '--url', sourceUrl, 'save', image], { maxBuffer: 1 << 30 });
      podman(['load', '--quiet'], tar);
    }
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, socket, podman, kill, restart: launch, stop };
}
