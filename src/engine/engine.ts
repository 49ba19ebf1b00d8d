/**
 * The one door to a container engine. Sessions, security, monitor and gc hold an `Engine` and nothing else of
 * src/engine/ but what src/engine/index.ts exports: they never see an endpoint, a status code or which engine it
 * is. What differs between engines and matters to them is a capability (below). Docker and Podman implement it
 * today (client.ts, with Podman's quirks in podman.ts); docs/design/kubernetes.md designs a third implementation.
 */
import type { Duplex, Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { EngineKind } from './endpoint.js';
import type { RawStats } from './stats.js';
import type { RuntimeRegistration } from './runtimes.js';
import type {
  BuildRequest, BuildResult, ContainerCreateBody, ContainerInspect, ContainerSummary, DiskUsage, EngineEvent, EngineSystemInfo, ExecInspect,
  ImageInspect, ImageSummary, IsolationFacts, NetworkInspect, NetworkSummary, VersionInfo, VolumeInfo,
} from './types.js';

/** What the engine does differently, asked instead of which engine it is. */
export interface EngineCapabilities {
  /**
   * Sessions need a network each: the engine's bridge networks ignore enable_icc (Podman), so sessions sharing one
   * could reach each other.
   */
  perSessionNetwork: boolean;
  /** The engine runs a container's health check by itself; when false, a supervisor drives it with runHealthcheck(). */
  healthChecksRunByEngine: boolean;
  /** The engine sees this machine's files (a unix socket here): host paths may be bind-mounted, statfs tells its disk. */
  hostPathsVisible: boolean;
  /** The engine may map the session user to the invoking user (rootless Podman's keep-id): ask isolationFacts(). */
  mayMapSessionUser: boolean;
  /** A runtime asked for at create (HostConfig.Runtime) is the one used; Podman 4.3's compat API ignores it. */
  runtimeChoiceHonoured: boolean;
}

export interface ExecOptions {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  stdin: boolean;
  detachKeys?: string;
}

/** A command run to its end with its input given at once (see Engine.execWithInput). */
export interface ExecResult {
  exitCode: number;
  /** stdout and stderr together, in order. */
  output: string;
  stdout: Buffer;
  stderr: Buffer;
  /** The engine dropped the exec because its session stopped meanwhile: the exit code (-1) is unknown. */
  sessionStopped?: boolean;
}

export interface CreateNetworkOptions {
  name: string;
  labels: Record<string, string>;
  internal: boolean;
  options: Record<string, string>;
}

/** Named volumes (a session's home, caches, a workspace copy). */
export interface EngineVolumes {
  create(name: string, labels: Record<string, string>): Promise<void>;
  inspect(name: string): Promise<VolumeInfo | undefined>;
  /** The volumes carrying every label filter ("K=V" or "K"). */
  list(labels: string[]): Promise<VolumeInfo[]>;
  /** false when it is still in use; gone already counts as removed. */
  remove(name: string): Promise<boolean>;
}

/** Bridge networks (a session's own, the shared isolated one, the egress proxy's). */
export interface EngineNetworks {
  create(request: CreateNetworkOptions): Promise<string>;
  inspect(name: string): Promise<NetworkInspect | undefined>;
  list(labels: string[]): Promise<NetworkSummary[]>;
  /** false when it is still in use or may not be removed; gone already counts as removed. */
  remove(name: string): Promise<boolean>;
  connect(network: string, container: string, aliases?: string[]): Promise<void>;
  /** Not connected, or gone, counts as disconnected. */
  disconnect(network: string, container: string): Promise<void>;
}

/** Images (aca's base images, a devcontainer's build, checkpoints). */
export interface EngineImages {
  /** The images that have a name. */
  list(): Promise<Array<{ Id: string; RepoTags: string[]; Size: number }>>;
  /** The images carrying every label filter. */
  listLabelled(labels: string[], options?: { dangling?: boolean }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspect | undefined>;
  pull(ref: string, onProgress?: (line: string) => void): Promise<void>;
  build(request: BuildRequest): Promise<BuildResult>;
  /** false when a container still uses it; gone already counts as removed. */
  remove(ref: string): Promise<boolean>;
}

export interface Engine {
  /** Which engine this is, for what aca shows (doctor, errors); never to decide behaviour (use capabilities). */
  readonly kind: EngineKind;
  /** Where it answers, for what aca shows. */
  readonly url: string;
  readonly capabilities: EngineCapabilities;
  /** The command that removes the engine's unused objects, for what aca advises (doctor, when the disk is full). */
  readonly pruneCommand: string;
  /** How an extra runtime (gVisor's) is registered with this engine: the steps aca shows, and doctor --fix's writes. */
  runtimeRegistration(): Promise<RuntimeRegistration>;
  readonly volumes: EngineVolumes;
  readonly networks: EngineNetworks;
  readonly images: EngineImages;
  /** Close the connections (a probe that is not used). */
  close(): void;

  version(): Promise<VersionInfo>;
  systemInfo(): Promise<EngineSystemInfo>;
  /** What a session's isolation choice needs: the runtimes offered, gVisor's, whether the session user is mapped. */
  isolationFacts(): Promise<IsolationFacts>;
  /** Free bytes where the engine keeps its data (on a remote engine: `df` in `probe`, a throwaway container). */
  freeBytes(info: EngineSystemInfo, probe: ContainerCreateBody | undefined): Promise<number | undefined>;
  diskUsage(): Promise<DiskUsage>;

  // containers
  listContainers(labels: string[], all?: boolean): Promise<ContainerSummary[]>;
  inspectContainer(id: string): Promise<ContainerInspect>;
  createContainer(name: string, body: ContainerCreateBody): Promise<string>;
  /**
   * A container that only gives the archive API a way to the volumes in `binds` (never runs a command of aca's);
   * removed by the caller, and by gc by its labels if the caller dies first.
   */
  createStorageHelper(options: { name: string; image: string; binds: string[]; labels: Record<string, string> }): Promise<string>;
  /**
   * Copy every file of volume `from` into volume `to`, keeping owners and modes, through helper containers of
   * `helper.image` carrying `helper.labels` (so gc finds them if aca dies first). Symlinks are copied as links, never
   * followed; no device, setuid or setgid file is made.
   */
  copyVolume(from: string, to: string, helper: { image: string; labels: Record<string, string>; leaveOut?: string[] }): Promise<void>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  restartContainer(id: string, timeoutSeconds?: number): Promise<void>;
  killContainer(id: string, signal: string): Promise<void>;
  removeContainer(id: string, options?: { force?: boolean }): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  waitContainer(id: string, condition?: 'next-exit' | 'not-running'): Promise<number>;
  /** Why the command could not start when the engine says so only in the output (see client.ts). */
  commandStartFailure(id: string, exitCode: number, attachedStderr?: string): Promise<string | undefined>;
  attachContainer(id: string, stdin: boolean, detachKeys?: string): Promise<{ socket: Duplex; head: Buffer }>;
  resizeContainer(id: string, columns: number, rows: number): Promise<void>;
  logs(id: string, options: { follow: boolean; tail?: string; timestamps?: boolean }): Promise<IncomingMessage>;
  /** Run the health check once now; undefined where the engine runs its checks itself. */
  runHealthcheck(id: string): Promise<string | undefined>;
  containerStats(id: string, options: { oneShot: boolean; timeoutMs?: number }): Promise<RawStats>;
  containerStatsOverSpan(id: string, timeoutMs?: number): Promise<RawStats>;
  /** Bytes in a container's writable layer. */
  writableLayerSize(id: string): Promise<number>;
  /** Extract a tar stream into a container's filesystem at `path` (volumes included). */
  putArchive(id: string, path: string, tar: Readable): Promise<void>;
  /** A tar stream of `path` in a container. */
  getArchive(id: string, path: string): Promise<IncomingMessage>;
  /** A container's filesystem as an image carrying `labels`; returns its id. */
  commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string>;

  // events
  /** Events as they come, until the returned stop() (or the engine's end). */
  watchEvents(filters: Record<string, string[]>, onEvent: (event: EngineEvent) => void): Promise<{ stop(): void }>;
  /** The events of a past window. */
  pastEvents(filters: Record<string, string[]>, window: { since: number; until: number }): Promise<EngineEvent[]>;

  // exec
  createExec(containerId: string, options: ExecOptions): Promise<string>;
  startExec(execId: string, tty: boolean): Promise<{ socket: Duplex; head: Buffer }>;
  resizeExec(execId: string, columns: number, rows: number): Promise<void>;
  inspectExec(execId: string): Promise<ExecInspect>;
  /** Run a command with `input` on its stdin (only over the API socket, never in its configuration) to its end. */
  /** The OCI runtime the engine will really run a created container with (see runtimeChoiceHonoured). */
  runtimeInUse(id: string): Promise<string | undefined>;
  execWithInput(containerId: string, options: { cmd: string[]; user?: string | undefined; input?: Buffer | undefined }): Promise<ExecResult>;
}
