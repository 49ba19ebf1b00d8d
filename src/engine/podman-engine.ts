/**
 * Podman through its Docker-compatible API: where it answers differently from Docker, this asks libpod's own API
 * at the same time or translates (the pure translations, each with its upstream issue, are in podman.ts).
 */
import { existsSync } from 'node:fs';
import { ApiEngine, checkedLeaveOut, PODMAN_LIBPOD_API, storageHelperName } from './client.js';
import type { RuntimeRegistration } from './runtimes.js';
import { FrameCollector } from './demux.js';
import type { EngineCapabilities } from './engine.js';
import { EngineApiError } from './errors.js';
import { TIMEOUT } from './http.js';
import {
  adaptCreateBodyForPodman, catatonitExecFailure, inspectForDocker, matchesAllLabels, missingInitFix, missingPodmanInit, podmanCommitQuery,
  securityOptionsForDocker, STATIC_INITS, summaryForDocker, type LibpodSecurity,
} from './podman.js';
import type { RawStats } from './stats.js';
import type { ContainerCreateBody, ContainerInspect, ContainerSummary, EngineSystemInfo, ImageSummary } from './types.js';
import { EngineError } from '../errors.js';

const libpod = (path: string) => `/v${PODMAN_LIBPOD_API}/libpod${path}`;

/** cp -a keeps owners, modes, times and links (busybox and GNU alike); then no copy stays setuid or setgid. */
const COPY_KEEPING_OWNERS =
  'cp -a /aca-copy-from/. /aca-copy-to/ && find /aca-copy-to -xdev ! -type l \\( -perm -4000 -o -perm -2000 \\) -exec chmod ug-s {} +';

export class PodmanEngine extends ApiEngine {
  protected override capabilitiesOf(hostPathsVisible: boolean): EngineCapabilities {
    return {
      // Its bridge networks ignore enable_icc.
      perSessionNetwork: true,
      // It schedules health checks with systemd timers: without systemd they never run by themselves.
      healthChecksRunByEngine: false,
      hostPathsVisible,
      // Rootless: keep-id.
      mayMapSessionUser: true,
      // Its Docker-compatible API ignores HostConfig.Runtime (4.3): a session asked to run under gVisor ran on runc.
      runtimeChoiceHonoured: false,
    };
  }

  override get pruneCommand(): string {
    return 'podman system prune';
  }

  override async runtimeRegistration(): Promise<RuntimeRegistration> {
    return (await import('./runtimes.js')).podmanRuntimeRegistration;
  }

  /** Podman before 4.6 ORs label filters on volumes (https://github.com/containers/podman/issues/19219). */
  protected override volumeFiltersOred(): boolean {
    return true;
  }

  /** 4.3 answers several label filters on images with nothing (see matchesAllLabels): ApiImages asks with one. */
  protected override imageFiltersAnswerNothing(): boolean {
    return true;
  }

  /** libpod's /info (asked at the same time) says whether it is rootless; compat /info does not. */
  override async systemInfo(): Promise<EngineSystemInfo> {
    const [info, own] = await Promise.all([
      this.http.json<EngineSystemInfo>('GET', '/info'),
      this.http.json<{ host?: { security?: LibpodSecurity } }>('GET', libpod('/info')).catch(() => undefined),
    ]);
    return { ...info, SecurityOptions: securityOptionsForDocker(info.SecurityOptions, own?.host?.security) };
  }

  /** The compat list leaves health out of Status; libpod's list (asked at the same time) has it. */
  override async listContainers(labels: string[], all = true): Promise<ContainerSummary[]> {
    const query = { all, filters: JSON.stringify({ label: labels }) };
    const [list, own] = await Promise.all([
      this.http.json<ContainerSummary[]>('GET', '/containers/json', { query }),
      this.http.json<Array<{ Id: string; Status?: string }>>('GET', libpod('/containers/json'), { query }).catch(() => []),
    ]);
    const health = new Map(own.map((c) => [c.Id, c.Status ?? '']));
    return list.map((summary) => summaryForDocker(summary, health.get(summary.Id)));
  }

  /** Run a session's health check once, now: a supervisor drives them where systemd does not. */
  override async runHealthcheck(id: string): Promise<string | undefined> {
    const result = await this.http.json<{ Status?: string }>('GET', libpod(`/containers/${encodeURIComponent(id)}/healthcheck`));
    return result?.Status;
  }

  /** libpod's inspect (asked at the same time) holds the capabilities compat inspect loses. */
  override async inspectContainer(id: string): Promise<ContainerInspect> {
    const path = `/containers/${encodeURIComponent(id)}/json`;
    const [info, own] = await Promise.all([
      this.http.json<ContainerInspect>('GET', path),
      this.http.json<{ BoundingCaps?: string[] | null }>('GET', libpod(path)).catch(() => undefined),
    ]);
    return inspectForDocker(info, own ? (own.BoundingCaps ?? null) : undefined);
  }

  /** A taken name (Podman's 500) is a ConflictError, as Docker's 409 is: see errors.ts. */
  override async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    try {
      return await super.createContainer(name, adaptCreateBodyForPodman(body));
    } catch (error) {
      const init = error instanceof EngineApiError ? missingPodmanInit(error.message) : undefined;
      if (init) {
        const present = !this.capabilities.hostPathsVisible ? [] : STATIC_INITS.filter((path) => existsSync(path));
        throw new EngineError(`Podman cannot start any container: its init ${init} (containers.conf init_path) is not installed`, { hint: missingInitFix(present), cause: error });
      }
      throw error;
    }
  }

  /**
   * Podman mounts volumes only into a running container, and its archive API writes into the container's own
   * layer otherwise: its helper runs, as catatonit's pause process (Podman mounts its init at /run/podman-init), so
   * no binary is needed in the image. Its entrypoint is set too: a checkpoint's image has aca's launcher as its own,
   * which would wait for secrets or exit at once, and the copy would read nothing.
   */
  override createStorageHelper(options: { name: string; image: string; binds: string[]; labels: Record<string, string> }): Promise<string> {
    return this.startPausedHelper(options, {});
  }

  private async startPausedHelper(options: { name: string; image: string; binds: string[]; labels: Record<string, string> }, hostConfig: Record<string, unknown>): Promise<string> {
    const id = await this.createContainer(options.name, this.storageHelperBody(options, { Entrypoint: ['/run/podman-init'], Cmd: ['-P'] }, { Init: true, ...hostConfig }));
    try {
      await this.startContainer(id);
    } catch (error) {
      await this.removeContainer(id, { force: true }).catch(() => {});
      throw error;
    }
    return id;
  }

  /**
   * Podman's archive API reports every file as owned by the reading container's user (4.3: root), so a copy through
   * it would hand the whole volume to root (and a setuid file to root with it); 4.3 has no volume export either. So
   * one helper mounts both volumes and copies inside with the image's own `cp -a` (aca's images need a shell and
   * its tools anyway): links stay links and resolve only inside the helper, never on the host. The helper may change
   * owners and nothing more (no CAP_MKNOD: no device is made; no network; no new privileges; read-only image), and
   * the setuid and setgid bits are dropped from the copies, so a copy never makes a file that runs as someone else.
   */
  /** The compat inspect says "oci" for every container; libpod's names the runtime. */
  override async runtimeInUse(id: string): Promise<string | undefined> {
    const libpod = await this.http.json<{ OCIRuntime?: string }>('GET', `/v${PODMAN_LIBPOD_API}/libpod/containers/${encodeURIComponent(id)}/json`);
    return libpod.OCIRuntime;
  }

  override async copyVolume(from: string, to: string, helper: { image: string; labels: Record<string, string>; leaveOut?: string[] }): Promise<void> {
    const leaveOut = checkedLeaveOut(helper.leaveOut).map((path) => ` && rm -rf -- '/aca-copy-to/${path}'`).join('');
    const id = await this.startPausedHelper(
      { name: storageHelperName('copy'), image: helper.image, binds: [`${from}:/aca-copy-from:ro`, `${to}:/aca-copy-to`], labels: helper.labels },
      { CapDrop: ['ALL'], CapAdd: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true },
    );
    try {
      const result = await this.execWithInput(id, { cmd: ['/bin/sh', '-c', COPY_KEEPING_OWNERS + leaveOut], user: '0:0' });
      if (result.exitCode !== 0) {
        throw new EngineError(`could not copy volume ${from} to ${to}: ${result.output.trim().split('\n').slice(-1)[0] || `exit code ${result.exitCode}`}`);
      }
    } finally {
      await this.removeContainer(id, { force: true });
    }
  }

  /**
   * With an init (catatonit) as PID 1, a command that cannot be started does not fail the start as under Docker:
   * catatonit starts, cannot exec it, says so on stderr and exits 1.
   */
  override async commandStartFailure(id: string, exitCode: number, attachedStderr?: string): Promise<string | undefined> {
    if (exitCode !== 1) return undefined;
    // What the attached stream carried is complete; the log file may not have it yet right after the exit.
    if (attachedStderr !== undefined) return catatonitExecFailure(attachedStderr);
    const res = await this.http.stream('GET', `/containers/${id}/logs`, { query: { stderr: true, stdout: false, tail: 3 } });
    return catatonitExecFailure((await new FrameCollector().readAll(res)).result().output);
  }

  /**
   * The compat stats give system_cpu_usage as wall-clock time, where Docker gives the sum over all CPUs; scale it
   * so the docker CLI's CPU % formula holds for both.
   */
  override async containerStats(id: string, options: { oneShot: boolean; timeoutMs?: number }): Promise<RawStats> {
    const stats = await super.containerStats(id, options);
    for (const cpu of [stats.cpu_stats, stats.precpu_stats]) {
      if (cpu?.system_cpu_usage && cpu.online_cpus) cpu.system_cpu_usage *= cpu.online_cpus;
    }
    return stats;
  }

  /** The compat commit drops the body's Labels; libpod's commit takes them as LABEL changes. */
  override async commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string> {
    const query = podmanCommitQuery({ container: id, ...options });
    const result = await this.http.json<{ Id: string }>('POST', libpod('/commit'), { query, timeoutMs: TIMEOUT.slow });
    return result.Id;
  }

}
