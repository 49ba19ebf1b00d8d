/**
 * Where Podman's Docker-compatible API differs from Docker's, and how aca
 * bridges each gap. Pure functions, called only from the engine layer, so the
 * rest of aca never needs to know which engine it talks to. Observed against
 * Podman 4.3 (Debian bookworm); each gap names its upstream issue where one exists.
 */
import type { ContainerCreateBody, ContainerInspect, ContainerSummary, Query } from './types.js';

/** A create body Podman accepts with the same meaning Docker gives it. */
export function adaptCreateBodyForPodman(body: ContainerCreateBody): ContainerCreateBody {
  if (!body.HostConfig?.Tmpfs) return body;
  const tmpfs: Record<string, string> = {};
  for (const [path, options] of Object.entries(body.HostConfig.Tmpfs)) tmpfs[path] = podmanTmpfsOptions(options);
  return { ...body, HostConfig: { ...body.HostConfig, Tmpfs: tmpfs } };
}

/**
 * Podman rejects the kernel's tmpfs uid=/gid= options (4.3: 'unknown mount
 * option "uid=0": invalid mount option'; its tmpfs option parser,
 * containers/podman pkg/util/mountOpts.go, knows no uid/gid). Its own `U`
 * option chowns the tmpfs to the container's user: the owner aca asks for.
 */
export function podmanTmpfsOptions(options: string): string {
  const parts = options.split(',');
  const owned = parts.some((p) => /^(?:uid|gid)=/.test(p));
  const kept = parts.filter((p) => !/^(?:uid|gid)=/.test(p));
  return (owned && !kept.includes('U') ? [...kept, 'U'] : kept).join(',');
}

/**
 * Podman names images without a registry "localhost/NAME" and pulled ones
 * "docker.io/library/NAME"; Docker shows them as the user wrote them.
 */
export function dockerImageName(name: string): string {
  return name.replace(/^localhost\//, '').replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/**
 * Podman answers a taken container name with HTTP 500 and "that name is
 * already in use" (a network name: "network already exists") where Docker
 * answers 409 Conflict.
 */
export function isNameConflict(statusCode: number, message: string): boolean {
  return statusCode === 500 && /name .* is already in use|that name is already in use|network already exists/.test(message);
}

/**
 * Podman answers a request for an object removed under it (by a concurrent rm or gc) with HTTP 500 and one of
 * these texts where Docker answers 404.
 */
export function isGoneAnswer(statusCode: number, message: string): boolean {
  return statusCode === 500
    && /no such (container|volume|network|image|exec session|object)|does not exist in database|no container with (name or )?id|no volume with name|unable to find network with name/i.test(message);
}

/**
 * A compat list entry as Docker writes it: the image name (see
 * dockerImageName), and the health in Status ("Up 5 minutes (healthy)"),
 * which Podman's compat list leaves out; `libpodStatus` is libpod's list
 * Status, which holds it ("healthy", "unhealthy", "starting").
 */
export function summaryForDocker(summary: ContainerSummary, libpodStatus?: string): ContainerSummary {
  const health = libpodStatus === 'healthy' || libpodStatus === 'unhealthy' ? libpodStatus : libpodStatus === 'starting' ? 'health: starting' : undefined;
  const status = health && !summary.Status.includes('(') ? `${summary.Status} (${health})` : summary.Status;
  return { ...summary, Image: dockerImageName(summary.Image), Status: status };
}

/**
 * Podman's compat inspect differs from Docker's:
 *  - CapDrop lists the dropped capabilities one by one with a CAP_ prefix
 *    (["CAP_CHOWN", ...]) instead of ["ALL"], and CapAdd loses what was added
 *    back; the truth is libpod's BoundingCaps (`bounding`): empty means no
 *    capability at all, which Docker writes as CapDrop ["ALL"];
 *  - SecurityOpt says "no-new-privileges" where Docker says "no-new-privileges:true";
 *  - image names carry localhost/ or docker.io/library/ (see dockerImageName).
 */
export function inspectForDocker(info: ContainerInspect, bounding: string[] | null | undefined): ContainerInspect {
  const host = { ...info.HostConfig };
  if (bounding !== undefined) {
    const caps = (bounding ?? []).map((c) => c.replace(/^CAP_/, ''));
    host.CapDrop = ['ALL'];
    host.CapAdd = caps;
  } else if (host.CapDrop) {
    host.CapDrop = host.CapDrop.map((c) => c.replace(/^CAP_/, ''));
  }
  if (host.SecurityOpt) host.SecurityOpt = host.SecurityOpt.map((o) => (o === 'no-new-privileges' ? 'no-new-privileges:true' : o));
  // Ulimits: Podman names them "RLIMIT_NOFILE", Docker "nofile".
  const ulimits = host.Ulimits as Array<{ Name: string; Soft: number; Hard: number }> | null | undefined;
  if (Array.isArray(ulimits)) host.Ulimits = ulimits.map((u) => ({ ...u, Name: u.Name.replace(/^RLIMIT_/, '').toLowerCase() }));
  // NetworkMode: Podman says "bridge" for a container on a network of its own; Docker names that network.
  const networks = Object.keys((info as { NetworkSettings?: { Networks?: Record<string, unknown> | null } }).NetworkSettings?.Networks ?? {});
  if (host.NetworkMode === 'bridge' && networks.length > 0 && !networks.includes('podman') && !networks.includes('bridge')) host.NetworkMode = networks[0]!;
  return { ...info, HostConfig: host, Config: { ...info.Config, Image: dockerImageName(info.Config.Image) } };
}

/**
 * With an init (catatonit, Podman's --init) as PID 1, a command that cannot be
 * started does not fail the start as under Docker: catatonit starts, cannot
 * exec the command, prints this line on stderr and exits 1. Returns the reason
 * in the words aca's exit code mapping understands (not found, permission denied).
 */
export function catatonitExecFailure(stderrTail: string): string | undefined {
  const match = /ERROR \(catatonit:\d+\): failed to exec pid1: (.+)$/m.exec(stderrTail);
  return match ? match[1]!.trim() : undefined;
}

/**
 * Podman writes an exec that cannot start as "Error: runc: exec failed: ..."
 * into the output stream, followed by its own "Error: read unixpacket ...:
 * connection reset by peer" once runc closes the attach socket: only the
 * first is about the command.
 */
export function cleanExecFailure(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^Error: read unixpacket .*connection reset by peer/.test(line))
    .map((line) => line.replace(/^Error: /, ''))
    .join('\n')
    .trim();
}

/** Podman's builder (buildah) announces steps as "STEP 2/4: RUN ..."; Docker's as "Step 2/4 : RUN ...". */
export function dockerStepLine(line: string): string {
  return line.replace(/^STEP (\d+\/\d+): /, 'Step $1 : ');
}

/** The part of libpod's /info that its compat /info leaves out. */
export interface LibpodSecurity {
  rootless?: boolean;
  selinuxEnabled?: boolean;
  apparmorEnabled?: boolean;
  seccompEnabled?: boolean;
}

/**
 * Podman 4.3's compat /info lists only seccomp in SecurityOptions, even for a
 * rootless engine; Docker writes "name=rootless" (and apparmor, selinux) there.
 * The truth is libpod's host.security, added here in Docker's form.
 */
export function securityOptionsForDocker(options: string[] | null | undefined, security: LibpodSecurity | undefined): string[] {
  const list = [...(options ?? [])];
  const add = (name: string, on: boolean | undefined) => {
    if (on && !list.some((o) => o.split(',').includes(`name=${name}`))) list.push(`name=${name}`);
  };
  add('seccomp', security?.seccompEnabled);
  add('apparmor', security?.apparmorEnabled);
  add('selinux', security?.selinuxEnabled);
  add('rootless', security?.rootless);
  return list;
}

/**
 * Whether `labels` carry every "K=V" (or bare "K") filter. Podman before 4.6
 * ORs several label filters when listing volumes
 * (https://github.com/containers/podman/issues/19219), so a session's volume
 * list would hold other sessions' volumes, and 4.3 answers several label
 * filters on images with nothing (images: https://github.com/containers/podman/issues/18412):
 * the engine layer filters again, here.
 */
export function matchesAllLabels(labels: Record<string, string> | null | undefined, filters: string[]): boolean {
  return filters.every((filter) => {
    const at = filter.indexOf('=');
    const key = at === -1 ? filter : filter.slice(0, at);
    if (!labels || !(key in labels)) return false;
    return at === -1 || labels[key] === filter.slice(at + 1);
  });
}

/**
 * POST /commit on Podman's compat API ignores the Labels of the body (4.3);
 * its libpod commit applies Dockerfile-style `changes`, one LABEL each: the query for that call.
 */
export function podmanCommitQuery(options: { container: string; repo: string; tag: string; labels: Record<string, string> }): Query {
  const changes = Object.entries(options.labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`);
  return { container: options.container, repo: options.repo, tag: options.tag, pause: 'true', changes };
}

/**
 * Podman runs the init of a session (--init, which aca always asks for) from
 * containers.conf's init_path, catatonit by default. Debian may install tini
 * instead, and then every create fails with "container-init binary not found
 * on the host". The init runs inside the container, so it must be linked
 * statically: these are the ones Podman can use, where Debian puts them.
 */
export const STATIC_INITS = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/tini-static', '/usr/bin/docker-init'];

/** The missing init's path, when `message` is Podman's error for it. */
export function missingPodmanInit(message: string): string | undefined {
  return /container-init binary not found on the host: stat ([^\s:]+)/.exec(message)?.[1];
}

/**
 * What to do about a missing init: install catatonit, or point init_path at a
 * static init that is installed (`present`: those found on the engine's host, when it is this machine).
 */
export function missingInitFix(present: string[]): string {
  const usable = present[0];
  return usable
    ? `Point Podman at the init that is installed: init_path = "${usable}" under [engine] in /etc/containers/containers.conf (rootless: ~/.config/containers/containers.conf), then restart Podman's service; or install catatonit (apt-get install catatonit).`
    : 'Install catatonit (apt-get install catatonit), or set init_path under [engine] in /etc/containers/containers.conf to a statically linked init (tini-static), then restart Podman\'s service.';
}
