/**
 * The Engine API operations aca uses, over one EngineHttp connection: Docker's behaviour here, Podman's differences
 * in podman-engine.ts (and the pure translations in podman.ts). The rest of aca sees only the Engine interface
 * (engine.ts), so engine differences are handled here and nowhere else.
 */
import { pipeline, type Duplex, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { EngineHttp, TIMEOUT } from './http.js';
import { EngineApiError, isConflict, isNotFound } from './errors.js';
import { type EngineInfo, isRemoteEndpoint, type EngineKind } from './endpoint.js';
import type {
  ContainerCreateBody, ContainerInspect, ContainerSummary, DiskUsage, EngineEvent, EngineSystemInfo, ExecInspect,
  IsolationFacts, VersionInfo,
} from './types.js';
import { DETACHED_STDIO } from './types.js';
import type { RawStats } from './stats.js';
import { EngineError } from '../errors.js';
import type { RuntimeRegistration } from './runtimes.js';
import { FrameCollector } from './demux.js';
import { engineFreeBytes, isolationFacts } from './info.js';
import type { Engine, EngineCapabilities, ExecOptions, ExecResult } from './engine.js';
import { ApiImages } from './images.js';
import { pastEvents, watchEvents } from './events.js';
import { awaitExecEnd } from './exec-end.js';
import { ApiNetworks } from './networks.js';
import { ApiVolumes } from './storage.js';
import { TarSanitizer } from './tar-sanitize.js';

/** Podman's libpod API version aca asks for where the compat API lacks a field (any 4.x answers it). */
export const PODMAN_LIBPOD_API = '4.0.0';

/** A stop or restart answers after its grace period (the engine's default: 10 s), plus the time of a call. */
function graceAndCall(seconds: number | undefined): number {
  return (seconds ?? 10) * 1000 + TIMEOUT.call;
}

/** Paths a volume copy leaves out: plain relative paths only, since Podman's copy names them in a shell command. */
export function checkedLeaveOut(paths: string[] = []): string[] {
  for (const path of paths) {
    if (!/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(path) || path.split('/').some((part) => part === '.' || part === '..')) {
      throw new EngineError(`cannot leave ${JSON.stringify(path)} out of a volume copy: not a plain relative path`);
    }
  }
  return paths;
}

/** A fresh name for one of aca's storage helpers. */
export function storageHelperName(purpose: string): string {
  return `aca-${purpose}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Docker's Engine API, as aca uses it. */
export class ApiEngine implements Engine {
  readonly capabilities: EngineCapabilities;
  readonly volumes: ApiVolumes;
  readonly networks: ApiNetworks;
  readonly images: ApiImages;

  private isolationAsked: Promise<IsolationFacts> | undefined;

  constructor(readonly http: EngineHttp, readonly info: EngineInfo) {
    this.capabilities = this.capabilitiesOf(!isRemoteEndpoint(http.endpoint));
    this.volumes = new ApiVolumes(http, this.volumeFiltersOred());
    this.networks = new ApiNetworks(http);
    this.images = new ApiImages(http, { checkLabels: this.imageFiltersAnswerNothing(), compressContext: !this.capabilities.hostPathsVisible });
  }

  /** Called by the constructor: what this engine does (PodmanEngine says otherwise). */
  protected capabilitiesOf(hostPathsVisible: boolean): EngineCapabilities {
    return { perSessionNetwork: false, healthChecksRunByEngine: true, hostPathsVisible, mayMapSessionUser: false, runtimeChoiceHonoured: true };
  }

  /** Called by the constructor: whether the engine ORs several label filters on volumes. */
  protected volumeFiltersOred(): boolean {
    return false;
  }

  /** Called by the constructor: whether the engine answers several label filters on images with nothing. */
  protected imageFiltersAnswerNothing(): boolean {
    return false;
  }

  get kind(): EngineKind {
    return this.info.kind;
  }

  get pruneCommand(): string {
    return 'docker system prune';
  }

  /** Loaded on first use: only doctor asks. */
  async runtimeRegistration(): Promise<RuntimeRegistration> {
    return (await import('./runtimes.js')).dockerRuntimeRegistration;
  }

  get url(): string {
    return this.info.url;
  }

  close(): void {
    this.http.close();
  }

  version(): Promise<VersionInfo> {
    return this.http.json('GET', '/version');
  }

  /** GET /info: storage, cgroups, security options, runtimes (see info.ts). */
  systemInfo(): Promise<EngineSystemInfo> {
    return this.http.json('GET', '/info');
  }

  /** Asked once per engine object (one aca command), so a caller may ask early, beside other calls, and again later. */
  isolationFacts(): Promise<IsolationFacts> {
    this.isolationAsked ??= this.systemInfo().then((info) => isolationFacts(this.kind, info, this.capabilities.hostPathsVisible));
    return this.isolationAsked;
  }

  freeBytes(info: EngineSystemInfo, probe: ContainerCreateBody | undefined): Promise<number | undefined> {
    return engineFreeBytes(this, info, this.capabilities.hostPathsVisible, probe);
  }

  diskUsage(): Promise<DiskUsage> {
    return this.http.json('GET', '/system/df', { timeoutMs: TIMEOUT.slow });
  }

  // --- containers -----------------------------------------------------------

  listContainers(labels: string[], all = true): Promise<ContainerSummary[]> {
    return this.http.json<ContainerSummary[]>('GET', '/containers/json', { query: { all, filters: JSON.stringify({ label: labels }) } });
  }

  /** Docker runs its health checks itself (see PodmanEngine). */
  async runHealthcheck(_id: string): Promise<string | undefined> {
    return undefined;
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.http.json('GET', `/containers/${encodeURIComponent(id)}/json`);
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const created = await this.http.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    return created.Id;
  }

  /** Created and never started: the archive API needs a container to reach volumes through. */
  createStorageHelper(options: { name: string; image: string; binds: string[]; labels: Record<string, string> }): Promise<string> {
    return this.createContainer(options.name, this.storageHelperBody(options, { Cmd: ['true'] }, {}));
  }

  /**
   * Through the archive API, with two never-started helpers, one to read and one to write: the engine serialises
   * archive calls on one container, so reading and writing through the same helper deadlocks as soon as the archive
   * outgrows the buffers between them. Docker's archive keeps each file's owner and mode; on the way, setuid and
   * setgid bits and devices are taken out (see tar-sanitize.ts).
   */
  async copyVolume(from: string, to: string, helper: { image: string; labels: Record<string, string>; leaveOut?: string[] }): Promise<void> {
    const leaveOut = checkedLeaveOut(helper.leaveOut);
    const reader = await this.createStorageHelper({ name: storageHelperName('copy'), image: helper.image, binds: [`${from}:/aca-copy-from/data:ro`], labels: helper.labels });
    try {
      const writer = await this.createStorageHelper({ name: storageHelperName('copy'), image: helper.image, binds: [`${to}:/aca-copy-to/data`], labels: helper.labels });
      try {
        // pipeline: a failed read fails the write too, and the other way round.
        // The archive names every entry below the folder it was asked for, data/.
        const clean = new TarSanitizer(leaveOut.map((path) => `data/${path}`));
        pipeline(await this.getArchive(reader, '/aca-copy-from/data'), clean, () => {});
        await this.putArchive(writer, '/aca-copy-to', clean);
      } finally {
        await this.removeContainer(writer, { force: true });
      }
    } finally {
      await this.removeContainer(reader, { force: true });
    }
  }

  protected storageHelperBody(
    options: { image: string; binds: string[]; labels: Record<string, string> },
    command: { Entrypoint?: string[]; Cmd: string[] },
    hostConfig: Record<string, unknown>,
  ): ContainerCreateBody {
    return {
      Image: options.image,
      ...command,
      Env: [],
      Labels: options.labels,
      User: '0:0',
      WorkingDir: '',
      ...DETACHED_STDIO,
      HostConfig: { Binds: options.binds, NetworkMode: 'none', ...hostConfig } as never,
    };
  }

  startContainer(id: string): Promise<void> {
    return this.http.json('POST', `/containers/${id}/start`);
  }

  stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.http.json('POST', `/containers/${id}/stop`, { query: { t: timeoutSeconds }, timeoutMs: graceAndCall(timeoutSeconds) });
  }

  restartContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.http.json('POST', `/containers/${id}/restart`, { query: { t: timeoutSeconds }, timeoutMs: graceAndCall(timeoutSeconds) });
  }

  async killContainer(id: string, signal: string): Promise<void> {
    try {
      await this.http.json('POST', `/containers/${id}/kill`, { query: { signal } });
    } catch (error) {
      // Not running any more (a conflict), or gone: nothing to signal.
      if (!isConflict(error) && !isNotFound(error)) throw error;
    }
  }

  async removeContainer(id: string, options: { force?: boolean } = {}): Promise<void> {
    return this.removeContainerAttempt(id, options, 1);
  }

  private async removeContainerAttempt(id: string, options: { force?: boolean }, attempt: number): Promise<void> {
    try {
      await this.http.json('DELETE', `/containers/${id}`, { query: { force: options.force ?? false, v: true } });
    } catch (error) {
      if (isNotFound(error)) return;
      // Podman, forced to remove a container whose command is just ending, may fail to kill what has already
      // stopped ("could not be stopped ... container state improper: stopped"): asked again, it removes it.
      if (options.force && attempt < 3 && error instanceof EngineApiError && /state improper/.test(error.message)) {
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        return this.removeContainerAttempt(id, options, attempt + 1);
      }
      // Another aca is removing it: wait until it is gone, so its volumes are free afterwards.
      if (error instanceof EngineApiError && /already in progress/.test(error.message)) {
        for (let i = 0; i < 100; i++) {
          try {
            await this.inspectContainer(id);
          } catch (gone) {
            if (isNotFound(gone)) return;
            throw gone;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return;
      }
      throw error;
    }
  }

  /** Freeze every process of a container (checkpoints copy a still filesystem). */
  async pauseContainer(id: string): Promise<void> {
    await this.http.json('POST', `/containers/${encodeURIComponent(id)}/pause`);
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.http.json('POST', `/containers/${encodeURIComponent(id)}/unpause`);
  }

  /**
   * Wait for the container to exit. Ask before starting it ("next-exit"), so a
   * fast command cannot exit before the wait is registered.
   */
  async waitContainer(id: string, condition: 'next-exit' | 'not-running' = 'next-exit'): Promise<number> {
    // No limit: the command may run for hours. A lost engine still ends the wait (EngineDownError).
    const result = await this.http.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, { query: { condition }, timeoutMs: TIMEOUT.none });
    return result.StatusCode;
  }

  /**
   * Why the session's command could not be started, when the engine reports
   * that only in the output (Podman's init, see PodmanEngine); undefined when the command itself ran, and always
   * on Docker, whose start call fails instead.
   * `attachedStderr`: the start of the stderr aca was attached to, when it was.
   */
  async commandStartFailure(_id: string, _exitCode: number, _attachedStderr?: string): Promise<string | undefined> {
    return undefined;
  }

  /** `detachKeys` in the engine's form ("ctrl-p,ctrl-q"): the engine cuts the stream on them. */
  attachContainer(id: string, stdin: boolean, detachKeys?: string): Promise<{ socket: Duplex; head: Buffer }> {
    return this.http.hijack(`/containers/${id}/attach`, {
      query: { stream: true, stdin, stdout: true, stderr: true, ...(detachKeys ? { detachKeys } : {}) },
    });
  }

  /** Set the size of a session's TTY. */
  resizeContainer(id: string, columns: number, rows: number): Promise<void> {
    return this.http.json('POST', `/containers/${id}/resize`, { query: { h: rows, w: columns } });
  }

  logs(id: string, options: { follow: boolean; tail?: string; timestamps?: boolean }): Promise<IncomingMessage> {
    return this.http.stream('GET', `/containers/${id}/logs`, {
      query: { stdout: true, stderr: true, follow: options.follow, tail: options.tail ?? 'all', timestamps: options.timestamps ?? false },
      // A followed log may say nothing for hours, and an engine may send its answer's head only with the first line.
      ...(options.follow ? { timeoutMs: TIMEOUT.none } : {}),
    });
  }

  /** Bytes in a container's writable layer (SizeRw, computed by the engine on request). */
  async writableLayerSize(id: string): Promise<number> {
    const info = await this.http.json<{ SizeRw?: number | null }>('GET', `/containers/${id}/json`, { query: { size: true } });
    return info.SizeRw ?? 0;
  }

  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    await this.http.json('PUT', `/containers/${id}/archive`, {
      query: { path, noOverwriteDirNonDir: true },
      rawBody: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  getArchive(id: string, path: string): Promise<IncomingMessage> {
    return this.http.stream('GET', `/containers/${id}/archive`, { query: { path } });
  }

  async commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string> {
    const result = await this.http.json<{ Id: string }>('POST', '/commit', {
      query: { container: id, repo: options.repo, tag: options.tag, pause: true },
      body: { Labels: options.labels },
      timeoutMs: TIMEOUT.slow,
    });
    return result.Id;
  }

  // --- monitoring (see stats.ts for the arithmetic) -------------------------

  /**
   * One stats sample. one-shot skips the engine's own second sample (a 1 s
   * wait); callers that keep the previous sample compute CPU % from it.
   * Engines that ignore one-shot still fill precpu_stats, which stats.ts uses.
   */
  containerStats(id: string, options: { oneShot: boolean; timeoutMs?: number }): Promise<RawStats> {
    return this.http.json<RawStats>('GET', `/containers/${id}/stats`, {
      query: { stream: false, ...(options.oneShot ? { 'one-shot': true } : {}) },
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /**
   * One stats answer whose precpu_stats are a reading about a second older, so CPU % needs no earlier sample
   * (what `docker stats --no-stream` shows). Docker fills them itself without one-shot; Podman's compat API
   * leaves them empty, so there two one-shot readings a second apart make the pair.
   */
  async containerStatsOverSpan(id: string, timeoutMs?: number): Promise<RawStats> {
    const first = await this.containerStats(id, { oneShot: false, timeoutMs });
    if (first.precpu_stats?.system_cpu_usage) return first;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { ...(await this.containerStats(id, { oneShot: true, timeoutMs })), precpu_stats: first.cpu_stats };
  }

  // --- events (events.ts) ----------------------------------------------------

  watchEvents(filters: Record<string, string[]>, onEvent: (event: EngineEvent) => void): Promise<{ stop(): void }> {
    return watchEvents(this.http, filters, onEvent);
  }

  pastEvents(filters: Record<string, string[]>, window: { since: number; until: number }): Promise<EngineEvent[]> {
    return pastEvents(this.http, filters, window);
  }

  // --- exec -----------------------------------------------------------------

  async createExec(containerId: string, options: ExecOptions): Promise<string> {
    const created = await this.http.json<{ Id: string }>('POST', `/containers/${containerId}/exec`, {
      body: {
        Cmd: options.cmd,
        Env: options.env ?? [],
        ...(options.workdir ? { WorkingDir: options.workdir } : {}),
        ...(options.user ? { User: options.user } : {}),
        Tty: options.tty,
        ...(options.detachKeys ? { DetachKeys: options.detachKeys } : {}),
        AttachStdin: options.stdin,
        AttachStdout: true,
        AttachStderr: true,
      },
    });
    return created.Id;
  }

  startExec(execId: string, tty: boolean): Promise<{ socket: Duplex; head: Buffer }> {
    return this.http.hijack(`/exec/${execId}/start`, { body: { Detach: false, Tty: tty } });
  }

  resizeExec(execId: string, columns: number, rows: number): Promise<void> {
    return this.http.json('POST', `/exec/${execId}/resize`, { query: { h: rows, w: columns } });
  }

  inspectExec(execId: string): Promise<ExecInspect> {
    return this.http.json('GET', `/exec/${execId}/json`);
  }

  async runtimeInUse(id: string): Promise<string | undefined> {
    return (await this.inspectContainer(id)).HostConfig.Runtime as string | undefined;
  }

  async execWithInput(containerId: string, options: { cmd: string[]; user?: string | undefined; input?: Buffer | undefined }): Promise<ExecResult> {
    const execId = await this.createExec(containerId, { cmd: options.cmd, user: options.user, tty: false, stdin: options.input !== undefined, env: [] });
    const { socket, head } = await this.startExec(execId, false);
    const output = new FrameCollector();
    output.push(head);
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => output.push(chunk));
      socket.on('end', resolve);
      socket.on('close', resolve);
      socket.on('error', reject);
    });
    if (options.input !== undefined) {
      socket.write(options.input);
      // Half-close: the command sees EOF on stdin, the output keeps flowing back.
      (socket as unknown as { end(): void }).end();
    } else socket.end();
    // Under gVisor the engine may never close the stream of an exec whose session stopped (exec-end.ts).
    const end = await awaitExecEnd(this, execId, done);
    if (end !== 'stream') socket.destroy();
    // The engine forgets an exec once its container has stopped: the exit code is then unknown.
    const exec = end === 'gone' ? undefined : await this.inspectExec(execId).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    return { exitCode: exec?.ExitCode ?? -1, ...(exec ? {} : { sessionStopped: true }), ...output.result() };
  }
}
