/**
 * `aca doctor`: everything aca needs from this machine and its engine, each
 * check with a fix when something is wrong. Fails (exit 1) when aca cannot
 * work here: no usable engine, an unusable configuration, no disk left.
 */
import { createRequire } from 'node:module';
import type { Context } from './context.js';
import { type ContainerCreateBody, describeVersion, DETACHED_STDIO, type Engine, loadConnector, securityFeatures } from './engine/index.js';
import { hardenedHostConfig } from './security/profile.js';
import { randomBytes } from 'node:crypto';
import { AcaError } from './errors.js';
import { DEFAULT_IMAGE } from './images.js';
import { LABEL } from './labels.js';
import { VERSION } from './version.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  /** What was checked: "engine unix:///var/run/docker.sock", "disk", ... */
  name: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it, when it is not ok. */
  hint?: string;
  data?: Record<string, unknown>;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

const GiB = 1024 ** 3;
/** Below this aca cannot build its base image (about 1.5 GiB) or run much. */
const DISK_FAIL = 1 * GiB;
const DISK_WARN = 5 * GiB;

function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / 1024 / 1024)} MiB`;
}

async function configCheck(ctx: Context): Promise<Check> {
  try {
    const { describeConfig } = await import('./config-report.js');
    const report = await describeConfig(ctx);
    const files = [report.files.user, report.files.project].filter(Boolean);
    return {
      name: 'configuration',
      status: 'ok',
      detail: files.length > 0 ? files.join(', ') : `no files (defaults; a user file would be in ${report.files.userDir ?? '$XDG_CONFIG_HOME/aca'})`,
      data: { files: report.files },
    };
  } catch (error) {
    return { name: 'configuration', status: 'fail', detail: (error as Error).message, hint: 'Fix or remove the file named above; aca config shows what applies.' };
  }
}

interface EngineProbe {
  checks: Check[];
  engine?: Engine | undefined;
}

/** Every place aca may find an engine, each pinged; the first usable one is aca's engine. */
async function engineChecks(ctx: Context): Promise<EngineProbe> {
  const { isChosen, plannedCandidates, ping } = await loadConnector();
  let planned;
  let options;
  try {
    options = await ctx.connectOptions();
    planned = plannedCandidates(options);
  } catch (error) {
    return { checks: [{ name: 'engine address', status: 'fail', detail: (error as Error).message, hint: 'Fix --host, --context, the configuration\'s host or engine, DOCKER_HOST or DOCKER_CONTEXT.' }] };
  }
  const choice = options.engine;
  const checks: Check[] = [];
  let chosen: Engine | undefined;
  for (const candidate of planned.candidates) {
    const name = `engine ${candidate.endpoint.url}`;
    try {
      const engine = await ping(candidate, planned.tls);
      const wanted = isChosen(engine, choice);
      const use = wanted && !chosen;
      checks.push({
        name,
        status: 'ok',
        detail: `${engine.kind} answers (${candidate.source})${use ? '; aca uses this one' : wanted ? '' : `; not used: engine ${choice}`}`,
        data: { url: candidate.endpoint.url, source: candidate.source, kind: engine.kind, answers: true, used: use },
      });
      if (use) chosen = engine;
      else engine.close();
    } catch (error) {
      // A candidate that does not answer is normal (most machines run one engine); only "none" is a failure.
      checks.push({ name, status: 'warn', detail: `no answer (${candidate.source}): ${(error as Error).message}`, data: { url: candidate.endpoint.url, source: candidate.source, answers: false } });
    }
  }
  if (!chosen) {
    checks.push({
      name: 'engine',
      status: 'fail',
      detail: `no ${choice === 'auto' ? 'container' : choice} engine answered`,
      hint: choice === 'podman'
        ? 'Start Podman\'s API: podman system service --time=0 unix:///run/podman/podman.sock & (rootless: systemctl --user start podman.socket)'
        : 'Start Docker (sudo systemctl start docker), or Podman\'s API (podman system service --time=0 &), or point --host / DOCKER_HOST / --context at one.',
    });
  }
  return { checks, engine: chosen };
}

async function engineFacts(ctx: Context, engine: Engine): Promise<Check[]> {
  const checks: Check[] = [];
  const local = engine.capabilities.hostPathsVisible;
  const [version, info] = await Promise.all([engine.version(), engine.systemInfo()]);
  const v = describeVersion(engine.kind, version);
  const security = securityFeatures(info, local);
  checks.push({
    name: 'engine version',
    status: 'ok',
    detail: `${v.engine}, API ${v.api}${v.minApi ? ` (accepts from ${v.minApi})` : ''}, ${security.rootless ? 'rootless' : 'rootful'}, ${local ? 'on this machine' : 'remote: workspaces are copied in'}`,
    data: { kind: engine.kind, version: version.Version, apiVersion: v.api, minApiVersion: v.minApi, rootless: security.rootless, remote: !local, os: info.OperatingSystem, kernel: info.KernelVersion },
  });
  const cgroup = info.CgroupVersion ? `v${info.CgroupVersion}` : 'unknown';
  checks.push({
    name: 'cgroups',
    status: info.CgroupVersion ? 'ok' : 'warn',
    detail: `${cgroup}${info.CgroupDriver ? ` (${info.CgroupDriver})` : ''}`,
    ...(info.CgroupVersion ? {} : { hint: 'Without cgroups the memory, CPU and pids limits cannot be enforced.' }),
    data: { version: info.CgroupVersion ?? null, driver: info.CgroupDriver ?? null },
  });
  const slowDriver = info.Driver === 'vfs';
  checks.push({
    name: 'storage driver',
    status: slowDriver ? 'warn' : 'ok',
    detail: info.Driver ?? 'unknown',
    ...(slowDriver ? { hint: 'vfs copies every layer: builds and starts are slow and use much disk. Use overlay2 (Docker) or overlay with fuse-overlayfs (rootless Podman).' } : {}),
    data: { driver: info.Driver ?? null, root: info.DockerRootDir ?? null },
  });
  const { diskLimitMechanism } = await import('./sessions/disk-limit.js');
  const diskLimits = diskLimitMechanism(info);
  checks.push({ name: 'disk limits', status: 'ok', detail: diskLimits.detail, data: { mechanism: 'periodic-check', backingFilesystem: diskLimits.backingFs } });
  const { gvisorCheck } = await import('./gvisor-setup.js');
  checks.push(await gvisorCheck(engine, info, local));
  const present = Object.entries(security).filter(([k, on]) => on && k !== 'rootless').map(([k]) => k);
  checks.push({
    name: 'security features',
    status: security.seccomp ? 'ok' : 'warn',
    detail: present.length > 0 ? present.join(', ') : 'none reported',
    ...(security.seccomp ? {} : { hint: 'Without seccomp sessions can make every system call; enable it in the engine (it is on by default).' }),
    data: { ...security },
  });

  let free: number | undefined;
  let diskError: string | undefined;
  try {
    const base = await engine.images.inspect(DEFAULT_IMAGE);
    free = await engine.freeBytes(info, base ? dfProbe(DEFAULT_IMAGE) : undefined);
  } catch (error) {
    diskError = (error as Error).message;
  }
  if (free === undefined) {
    checks.push({
      name: 'disk',
      status: 'warn',
      detail: `free space unknown${diskError ? `: ${diskError}` : local ? '' : ' (a remote engine is measured from inside aca\'s base image, which is not built there)'}`,
      ...(local ? {} : { hint: 'Build the base image on that engine (aca build) to measure it.' }),
    });
  } else {
    const status: CheckStatus = free < DISK_FAIL ? 'fail' : free < DISK_WARN ? 'warn' : 'ok';
    checks.push({
      name: 'disk',
      status,
      detail: `${formatBytes(free)} free${info.DockerRootDir ? ` in ${info.DockerRootDir}` : ''}`,
      ...(status === 'ok' ? {} : { hint: `Free space for images and sessions: aca gc removes what aca left behind; ${engine.pruneCommand} removes unused engine objects.` }),
      data: { freeBytes: free },
    });
  }

  const image = await engine.images.inspect(DEFAULT_IMAGE);
  checks.push({
    name: 'base image',
    status: image ? 'ok' : 'warn',
    detail: image ? `${DEFAULT_IMAGE} (${formatBytes(image.Size)}, built ${image.Created.slice(0, 10)})` : `${DEFAULT_IMAGE} is not built on this engine`,
    ...(image ? {} : { hint: 'aca run builds it on first use; or build it now: aca build (behind a TLS-inspecting proxy add --ca-certs FILE).' }),
    data: { image: DEFAULT_IMAGE, present: Boolean(image) },
  });
  return checks;
}

/** The throwaway container that runs `df` on a remote engine: hardened, small, no network, no init. */
function dfProbe(image: string): ContainerCreateBody {
  return {
    Image: image,
    Env: [],
    Labels: { [LABEL.managed]: 'true', 'aca.doctor': 'true' },
    User: '',
    WorkingDir: '',
    ...DETACHED_STDIO,
    HostConfig: { ...probeHostConfig(), Init: false },
  };
}

/** A doctor's throwaway container: hardened like every container aca creates, small, no network. */
function probeHostConfig(): ContainerCreateBody['HostConfig'] {
  return hardenedHostConfig({ binds: [], tmpfs: {}, network: 'none', memory: 64 * 1024 * 1024, nanoCpus: 5e8, pids: 16 });
}

/**
 * Whether the engine really creates a session's container: a create with
 * aca's hardening and its init (Podman as Debian installs it may lack the
 * init it is configured with, and then no session can start), removed at once.
 */
async function createCheck(engine: Engine): Promise<Check> {
  const name = 'session create';
  const images = await engine.images.list();
  const image = images.find((i) => i.RepoTags.includes(DEFAULT_IMAGE))?.RepoTags[0] ?? images[0]?.RepoTags[0];
  if (!image) {
    return { name, status: 'warn', detail: 'not tried: no image on the engine to create a container from', hint: 'Build one (aca build) and run aca doctor again.' };
  }
  const body: ContainerCreateBody = {
    Image: image, Cmd: ['true'], Env: [], User: '', WorkingDir: '', ...DETACHED_STDIO,
    Labels: { [LABEL.managed]: 'true', [LABEL.version]: VERSION },
    // With the init, as a session's: the init is what Podman may lack.
    HostConfig: probeHostConfig(),
  };
  let id: string | undefined;
  try {
    id = await engine.createContainer(`aca-doctor-${randomBytes(4).toString('hex')}`, body);
    return { name, status: 'ok', detail: `a hardened container with an init was created from ${image} (and removed)`, data: { image, created: true } };
  } catch (error) {
    return { name, status: 'fail', detail: (error as Error).message, ...(error instanceof AcaError && error.hint ? { hint: error.hint } : {}), data: { image, created: false } };
  } finally {
    if (id) await engine.removeContainer(id, { force: true }).catch(() => {});
  }
}

function ptyCheck(): Check {
  try {
    createRequire(import.meta.url)('node-pty');
    return { name: 'node-pty', status: 'ok', detail: 'loads (the terminal tests can drive aca through a real pty)', data: { loaded: true } };
  } catch (error) {
    return {
      name: 'node-pty',
      status: 'warn',
      detail: `does not load: ${(error as Error).message.split('\n')[0]}`,
      hint: 'Only the terminal tests need it (aca itself does not): npm install --include=optional, with a C++ toolchain for its build.',
      data: { loaded: false },
    };
  }
}

export async function runDoctor(ctx: Context, options: { fix?: boolean } = {}): Promise<DoctorReport> {
  const checks: Check[] = [];
  const probe = await engineChecks(ctx);
  checks.push(...probe.checks);
  if (probe.engine) {
    try {
      if (options.fix) await (await import('./gvisor-setup.js')).fixGvisor(ctx, probe.engine);
      checks.push(...(await engineFacts(ctx, probe.engine)));
      checks.push(await createCheck(probe.engine));
    } catch (error) {
      checks.push({ name: 'engine facts', status: 'fail', detail: `the engine answered its ping but not /version or /info: ${(error as Error).message}` });
    } finally {
      probe.engine.close();
    }
  }
  checks.push(ptyCheck());
  checks.push(await configCheck(ctx));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
