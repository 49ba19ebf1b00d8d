/**
 * The Engine API operations aca uses, over one EngineHttp connection. Engine
 * differences (Docker vs Podman, API versions) are handled here and nowhere else.
 */
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { IncomingMessage } from 'node:http';
import { EngineHttp, TIMEOUT } from './http.js';
import { EngineApiError, isConflict, isNotFound } from './errors.js';
import type { EngineKind } from './endpoint.js';
import type {
  ContainerCreateBody, ContainerInspect, ContainerSummary, EngineSystemInfo, ExecInspect, ImageInspect, VersionInfo,
} from './types.js';
import type { RawStats } from './stats.js';
import { BuildError, EngineError } from '../errors.js';
import { isRemoteEndpoint } from './endpoint.js';
import { existsSync } from 'node:fs';
import {
  adaptCreateBodyForPodman, catatonitExecFailure, missingInitFix, missingPodmanInit, STATIC_INITS, inspectForDocker, securityOptionsForDocker, summaryForDocker,
  type LibpodSecurity,
} from './podman.js';
import { FrameDemuxer } from './demux.js';

/** Podman's libpod API version aca asks for where the compat API lacks a field (any 4.x answers it). */
export const PODMAN_LIBPOD_API = '4.0.0';

/** A stop or restart answers after its grace period (the engine's default: 10 s), plus the time of a call. */
function graceAndCall(seconds: number | undefined): number {
  return (seconds ?? 10) * 1000 + TIMEOUT.call;
}

export interface EngineInfo {
  kind: EngineKind;
  url: string;
  source: string;
  apiVersion: string;
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

export class Engine {
  constructor(readonly http: EngineHttp, readonly info: EngineInfo) {}

  get kind(): EngineKind {
    return this.info.kind;
  }

  version(): Promise<VersionInfo> {
    return this.http.json('GET', '/version');
  }

  /** GET /info: storage, cgroups, security options, runtimes (see info.ts). */
  async systemInfo(): Promise<EngineSystemInfo> {
    if (this.kind !== 'podman') return this.http.json('GET', '/info');
    // Podman: libpod's /info (asked at the same time) says whether it is rootless; compat /info does not.
    const [info, libpod] = await Promise.all([
      this.http.json<EngineSystemInfo>('GET', '/info'),
      this.http.json<{ host?: { security?: LibpodSecurity } }>('GET', `/v${PODMAN_LIBPOD_API}/libpod/info`).catch(() => undefined),
    ]);
    return { ...info, SecurityOptions: securityOptionsForDocker(info.SecurityOptions, libpod?.host?.security) };
  }

  // --- containers -----------------------------------------------------------

  async listContainers(labels: string[], all = true): Promise<ContainerSummary[]> {
    const query = { all, filters: JSON.stringify({ label: labels }) };
    if (this.kind !== 'podman') return this.http.json<ContainerSummary[]>('GET', '/containers/json', { query });
    // Podman: the compat list leaves health out of Status; libpod's list (asked at the same time) has it.
    const [list, libpod] = await Promise.all([
      this.http.json<ContainerSummary[]>('GET', '/containers/json', { query }),
      this.http.json<Array<{ Id: string; Status?: string }>>('GET', `/v${PODMAN_LIBPOD_API}/libpod/containers/json`, { query }).catch(() => []),
    ]);
    const health = new Map(libpod.map((c) => [c.Id, c.Status ?? '']));
    return list.map((summary) => summaryForDocker(summary, health.get(summary.Id)));
  }

  /**
   * Run a session's health check once, now. Podman schedules health checks
   * with systemd timers, so where there is no systemd (containers, many CI
   * machines) they never run on their own: a supervisor can drive them with this.
   * Docker runs its checks itself; there this is a no-op returning undefined.
   */
  async runHealthcheck(id: string): Promise<string | undefined> {
    if (this.kind !== 'podman') return undefined;
    const result = await this.http.json<{ Status?: string }>('GET', `/v${PODMAN_LIBPOD_API}/libpod/containers/${encodeURIComponent(id)}/healthcheck`);
    return result?.Status;
  }

  async inspectContainer(id: string): Promise<ContainerInspect> {
    const path = `/containers/${encodeURIComponent(id)}/json`;
    if (this.kind !== 'podman') return this.http.json('GET', path);
    // Podman: libpod's inspect (asked at the same time) holds the capabilities compat inspect loses.
    const [info, libpod] = await Promise.all([
      this.http.json<ContainerInspect>('GET', path),
      this.http.json<{ BoundingCaps?: string[] | null }>('GET', `/v${PODMAN_LIBPOD_API}/libpod${path}`).catch(() => undefined),
    ]);
    return inspectForDocker(info, libpod ? (libpod.BoundingCaps ?? null) : undefined);
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    if (this.kind !== 'podman') {
      const created = await this.http.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
      return created.Id;
    }
    // A taken name (Podman's 500) is a ConflictError, as Docker's 409 is: see errors.ts.
    try {
      const created = await this.http.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body: adaptCreateBodyForPodman(body) });
      return created.Id;
    } catch (error) {
      const init = error instanceof EngineApiError ? missingPodmanInit(error.message) : undefined;
      if (init) {
        const present = isRemoteEndpoint(this.http.endpoint) ? [] : STATIC_INITS.filter((path) => existsSync(path));
        throw new EngineError(`Podman cannot start any container: its init ${init} (containers.conf init_path) is not installed`, { hint: missingInitFix(present), cause: error });
      }
      throw error;
    }
  }

  startContainer(id: string): Promise<void> {
    return this.http.json('POST', `/containers/${id}/start`);
  }

  stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.http.json('POST', `/containers/${id}/stop`, { query: { t: timeoutSeconds }, timeoutMs: graceAndCall(timeoutSeconds) });
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
    try {
      await this.http.json('DELETE', `/containers/${id}`, { query: { force: options.force ?? false, v: true } });
    } catch (error) {
      if (isNotFound(error)) return;
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
   * that only in the output: Podman's init (catatonit) starts, fails to exec
   * the command and exits 1. Undefined when the command itself ran.
   * `attachedStderr`: the start of the stderr aca was attached to, when it was.
   */
  async commandStartFailure(id: string, exitCode: number, attachedStderr?: string): Promise<string | undefined> {
    if (this.kind !== 'podman' || exitCode !== 1) return undefined;
    // What the attached stream carried is complete; the log file may not have it yet right after the exit.
    if (attachedStderr !== undefined) return catatonitExecFailure(attachedStderr);
    const res = await this.http.stream('GET', `/containers/${id}/logs`, { query: { stderr: true, stdout: false, tail: 3 } });
    let text = '';
    const demux = new FrameDemuxer((_stream, payload) => { text += payload.toString('utf8'); return true; });
    for await (const chunk of res) demux.push(chunk as Buffer);
    return catatonitExecFailure(text);
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

  // --- monitoring (see stats.ts for the arithmetic) -------------------------

  /**
   * One stats sample. one-shot skips the engine's own second sample (a 1 s
   * wait); callers that keep the previous sample compute CPU % from it.
   * Engines that ignore one-shot still fill precpu_stats, which stats.ts uses.
   */
  async containerStats(id: string, options: { oneShot: boolean; timeoutMs?: number }): Promise<RawStats> {
    const stats = await this.http.json<RawStats>('GET', `/containers/${id}/stats`, {
      query: { stream: false, ...(options.oneShot ? { 'one-shot': true } : {}) },
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    // Podman's compat stats give system_cpu_usage as wall-clock time, where Docker gives
    // the sum over all CPUs; scale it so the docker CLI's CPU % formula holds for both.
    if (this.kind === 'podman') {
      for (const cpu of [stats.cpu_stats, stats.precpu_stats]) {
        if (cpu?.system_cpu_usage && cpu.online_cpus) cpu.system_cpu_usage *= cpu.online_cpus;
      }
    }
    return stats;
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

  restartContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.http.json('POST', `/containers/${id}/restart`, { query: { t: timeoutSeconds }, timeoutMs: graceAndCall(timeoutSeconds) });
  }

  /**
   * Engine events as a stream of JSON lines. With `until`, the engine answers
   * with the events of that past window and ends the response.
   */
  events(filters: Record<string, string[]>, window: { since?: number; until?: number } = {}): Promise<IncomingMessage> {
    return this.http.stream('GET', '/events', {
      query: { filters: JSON.stringify(filters), since: window.since?.toFixed(3), until: window.until?.toFixed(3) },
      // Without an end, the stream waits for events that may never come (see logs()).
      ...(window.until === undefined ? { timeoutMs: TIMEOUT.none } : {}),
    });
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

  // --- images ---------------------------------------------------------------

  /** The images on the engine that have a name (untagged layers left by builds are not). */
  async listImages(): Promise<Array<{ Id: string; RepoTags: string[]; Size: number }>> {
    const images = await this.http.json<Array<{ Id: string; RepoTags?: string[] | null; Size: number }>>('GET', '/images/json');
    return images
      .map((image) => ({ Id: image.Id, Size: image.Size, RepoTags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>') }))
      .filter((image) => image.RepoTags.length > 0);
  }

  async inspectImage(ref: string): Promise<ImageInspect | undefined> {
    try {
      return await this.http.json<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Pull an image. The engine reports failures as JSON lines inside a 200
   * response, so every line is checked for an error.
   */
  async pullImage(ref: string, onProgress?: (line: string) => void): Promise<void> {
    const [name, tag] = splitReference(ref);
    const res = await this.http.stream('POST', '/images/create', { query: { fromImage: name, tag } });
    await readJsonLines(res, (message) => {
      const error = message.errorDetail?.message ?? message.error;
      if (error) throw new BuildError(`pull ${ref}: ${error}`);
      if (message.status && onProgress) onProgress(message.id ? `${message.id}: ${message.status}` : message.status);
    }).catch((error: unknown) => { throw this.http.lost(error); });
  }
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
  message?: string;
}

/** Read newline-delimited JSON messages (build and pull progress). */
export async function readJsonLines(stream: NodeJS.ReadableStream, onMessage: (message: JsonMessage) => void): Promise<void> {
  let buffered = '';
  const handle = (line: string) => {
    const text = line.trim();
    if (!text) return;
    let message: JsonMessage;
    try {
      message = JSON.parse(text) as JsonMessage;
    } catch {
      message = { stream: `${text}\n` };
    }
    onMessage(message);
  };
  // Stream mode: a character split across two chunks is decoded once both have come.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      handle(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  handle(buffered + decoder.end());
}

/** "repo/name:tag" → ["repo/name", "tag"], minding registry ports and digests. */
export function splitReference(ref: string): [string, string] {
  if (ref.includes('@')) return [ref, ''];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}
