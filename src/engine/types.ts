/** The slices of Engine API objects aca reads. Docker and Podman both fill these. */

/** A request's query: undefined values are left out; a list repeats its key (`t=a&t=b`), as some calls want. */
export type Query = Record<string, string | number | boolean | undefined | readonly string[]>;

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Created: number;
  Labels: Record<string, string> | null;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: string; FailingStreak: number; Log?: Array<{ ExitCode: number; Output: string }> };
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: ContainerState;
  Config: {
    Image: string;
    User: string;
    Env: string[] | null;
    Cmd: string[] | null;
    Entrypoint: string[] | string | null;
    WorkingDir: string;
    Labels: Record<string, string> | null;
    Tty: boolean;
    OpenStdin: boolean;
  };
  HostConfig: Record<string, unknown> & {
    Memory?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
    CapDrop?: string[] | null;
    CapAdd?: string[] | null;
    SecurityOpt?: string[] | null;
    Privileged?: boolean;
    Init?: boolean | null;
    ReadonlyRootfs?: boolean;
    NetworkMode?: string;
  };
  Mounts: Array<{ Type: string; Source: string; Destination: string; RW: boolean; Name?: string }>;
}

export interface ExecInspect {
  ExitCode: number | null;
  Running: boolean;
  Pid: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  Created: string;
  Size: number;
  Config: { User?: string; Env?: string[] | null; WorkingDir?: string; Labels?: Record<string, string> | null; Cmd?: string[] | null; Entrypoint?: string[] | null } | null;
}

export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  Components?: Array<{ Name: string; Version: string }>;
}

/** The body of POST /containers/create, as much of it as aca sets. */
export interface ContainerCreateBody {
  Image: string;
  Hostname?: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env: string[];
  Labels: Record<string, string>;
  User: string;
  WorkingDir: string;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  StopSignal?: string;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  HostConfig: {
    Binds: string[];
    Tmpfs: Record<string, string>;
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
    NetworkMode: string;
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    PidsLimit: number;
    CapDrop: string[];
    CapAdd: string[];
    SecurityOpt: string[];
    /** Only ever true with --privileged --unsafe. */
    Privileged: boolean;
    Init: boolean;
    ReadonlyRootfs: boolean;
    AutoRemove: boolean;
    RestartPolicy: { Name: string; MaximumRetryCount?: number };
    Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>;
    CpuShares?: number;
    IpcMode?: string;
    CgroupnsMode?: 'private' | 'host';
    /** An OCI runtime the engine lists, e.g. runsc (gVisor). */
    Runtime?: string;
    /** Rootless Podman: keep-id maps the session user to the invoking user. */
    UsernsMode?: string;
    /** [rows, columns]: engines from API 1.42 size the TTY before the command starts. */
    ConsoleSize?: [number, number];
  };
}

/** A container that nobody attaches to: aca's helpers (storage set-up, doctor's df, the egress proxy). */
export const DETACHED_STDIO = {
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
} as const;

export interface VolumeInfo {
  Name: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  CreatedAt?: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Created: number;
  Size: number;
  Labels: Record<string, string> | null;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  Containers?: Record<string, unknown>;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  Internal: boolean;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  Containers?: Record<string, { Name: string; IPv4Address: string }> | null;
}

export interface DiskUsage {
  LayersSize?: number;
  Images: Array<{ Id: string; Size: number; SharedSize: number; Labels: Record<string, string> | null }> | null;
  Containers: Array<{ Id: string; SizeRw?: number; Labels: Record<string, string> | null }> | null;
  Volumes: Array<{ Name: string; Labels: Record<string, string> | null; UsageData?: { Size: number } | null }> | null;
}

/** One line of the engine's event stream (the fields aca reads). */
export interface EngineEvent {
  id?: string;
  status?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** The slice of GET /info aca reads. Podman's compat API fills the same fields. */
export interface EngineSystemInfo {
  ServerVersion?: string;
  Driver?: string;
  CgroupVersion?: string;
  CgroupDriver?: string;
  SecurityOptions?: string[] | null;
  DockerRootDir?: string;
  Runtimes?: Record<string, { path?: string }> | null;
  DefaultRuntime?: string;
  Name?: string;
  OperatingSystem?: string;
  KernelVersion?: string;
  /** The engine's swarm membership (CIS 5.1): "inactive" when not in a swarm. */
  Swarm?: { LocalNodeState?: string };
  /** e.g. [["Backing Filesystem", "extfs"], ...]: whether size quotas are possible. */
  DriverStatus?: Array<[string, string]> | null;
  /** Host facts: the engine refuses limits beyond them. */
  NCPU?: number;
  MemTotal?: number;
}

/** What a session's isolation choice needs to know about the engine (see security/isolation.ts). */
export interface IsolationFacts {
  /** gVisor's runtime name on this engine, when it is offered and usable. */
  gvisorRuntime: string | undefined;
  /** Every runtime the engine lists, for error messages. */
  runtimes: string[];
  /**
   * auto may pick gVisor here. Docker lists only the runtimes registered in daemon.json; Podman lists every
   * runtime its containers.conf knows, runsc included, whether or not it is set up to work, so on Podman only an
   * explicit --isolation gvisor uses it.
   */
  autoMayPickGvisor: boolean;
  /** Rootless Podman: keep-id maps the session user to the invoking user, so workspace files stay theirs. */
  mapSessionUser: boolean;
}

export interface BuildRequest {
  context: string;
  /** Path of the Dockerfile, relative to the context. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache: boolean;
  /** A multi-stage Dockerfile's stage to build. */
  target?: string | undefined;
  /** Images the engine may take cached layers from. */
  cacheFrom?: string[] | undefined;
  /** Called with "Step 3/9 : RUN ..." as each step starts. */
  onStep?: (step: string) => void;
  /** Every line a step writes (not the step lines, nor the builder's own bookkeeping). */
  onOutput?: (line: string) => void;
}

export interface BuildResult {
  id: string;
  tags: string[];
}
