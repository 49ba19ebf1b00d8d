/**
 * How an extra OCI runtime (gVisor's runsc) is registered with each engine: the steps a person follows, and what
 * `aca doctor --fix` writes as root on this machine. Docker takes a runtime with its arguments in daemon.json and
 * reloads on SIGHUP; Podman's containers.conf has no per-runtime arguments, so a wrapper script passes them, and the
 * service must be restarted by whoever started it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AcaError } from '../errors.js';

/** A runtime to register: the name the engine will list it under, its binary, and the arguments it always needs. */
export interface RuntimeSpec {
  /** A short name for the files aca writes for it ("gvisor"). */
  id: string;
  name: string;
  path: string;
  args: string[];
}

export interface RuntimeRegistration {
  /** The steps after installing the runtime's binary, each a line a person can follow. */
  steps(runtime: RuntimeSpec): string[];
  /** What register() will change, said before it does. */
  plan(runtime: RuntimeSpec): string;
  /** false when the engine lists the runtime but not the way aca registers it (Podman: without the wrapper). */
  registeredAsAca(runtime: RuntimeSpec): boolean;
  /**
   * Register it (as root, on the engine's machine). Resolves once the engine lists it (`listed` is asked), or with
   * what the person must still do.
   */
  register(runtime: RuntimeSpec, say: (line: string) => void, listed: () => Promise<boolean>): Promise<string | undefined>;
}

/** Replace a file in one rename, keeping the old one beside it. */
function replaceFile(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) writeFileSync(`${path}.aca-backup`, readFileSync(path), { mode });
  writeFileSync(`${path}.aca-tmp`, text, { mode });
  renameSync(`${path}.aca-tmp`, path);
}

const DOCKER_DAEMON_JSON = '/etc/docker/daemon.json';

/** daemon.json with `runtime` registered, every other setting kept. Pure. */
export function withRuntime(current: string | undefined, runtime: RuntimeSpec): string {
  let config: Record<string, unknown> = {};
  if (current !== undefined && current.trim() !== '') {
    const parsed = JSON.parse(current) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    config = parsed as Record<string, unknown>;
  }
  const runtimes = (config.runtimes ?? {}) as Record<string, unknown>;
  return `${JSON.stringify({ ...config, runtimes: { ...runtimes, [runtime.name]: { path: runtime.path, runtimeArgs: runtime.args } } }, null, 2)}\n`;
}

export const dockerRuntimeRegistration: RuntimeRegistration = {
  steps: (runtime) => [
    `add to ${DOCKER_DAEMON_JSON}: {"runtimes": {"${runtime.name}": {"path": "${runtime.path}", "runtimeArgs": ${JSON.stringify(runtime.args)}}}}`,
    'reload dockerd: kill -HUP $(cat /var/run/docker.pid) (or systemctl reload docker)',
  ],
  plan: (runtime) => `register ${runtime.name} in ${DOCKER_DAEMON_JSON} (kept as .aca-backup) and reload dockerd`,
  registeredAsAca: () => true,
  async register(runtime, say, listed) {
    let current: string | undefined;
    try {
      current = readFileSync(DOCKER_DAEMON_JSON, 'utf8');
    } catch {
      current = undefined;
    }
    let next: string;
    try {
      next = withRuntime(current, runtime);
    } catch (error) {
      throw new AcaError(`aca doctor --fix: ${DOCKER_DAEMON_JSON} is not valid JSON (${(error as Error).message}); fix it first`);
    }
    replaceFile(DOCKER_DAEMON_JSON, next, 0o644);
    const pid = dockerdPid();
    if (!pid) throw new AcaError(`aca doctor --fix: registered ${runtime.name} in ${DOCKER_DAEMON_JSON}, but found no dockerd to reload; reload it yourself`);
    say(`reloading dockerd (pid ${pid}) with SIGHUP`);
    process.kill(pid, 'SIGHUP');
    if (!(await listed())) throw new AcaError(`aca doctor --fix: dockerd did not list ${runtime.name} after the reload; see its log`);
    return undefined;
  },
};

function dockerdPid(): number | undefined {
  try {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
  } catch {
    /* fall back to the process table */
  }
  try {
    const pid = Number(execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Podman's containers.conf has no per-runtime arguments: a wrapper passes them. */
const podmanWrapper = (runtime: RuntimeSpec) => `/usr/local/libexec/aca/${runtime.name}`;
const podmanDropIn = (runtime: RuntimeSpec) => `/etc/containers/containers.conf.d/50-aca-${runtime.id}.conf`;

export const podmanRuntimeRegistration: RuntimeRegistration = {
  steps: (runtime) => [
    `printf '#!/bin/sh\\nexec ${runtime.path} ${runtime.args.join(' ')} "$@"\\n' > ${podmanWrapper(runtime)} && chmod 755 ${podmanWrapper(runtime)}`,
    `printf '[engine.runtimes]\\n${runtime.name} = ["${podmanWrapper(runtime)}"]\\n' > ${podmanDropIn(runtime)}`,
    'restart the Podman service (systemctl restart podman.socket, or the podman system service you started)',
  ],
  plan: (runtime) => `write ${podmanWrapper(runtime)} and ${podmanDropIn(runtime)}`,
  registeredAsAca(runtime) {
    try {
      return readFileSync(podmanDropIn(runtime), 'utf8').includes(podmanWrapper(runtime)) && existsSync(podmanWrapper(runtime));
    } catch {
      return false;
    }
  },
  async register(runtime) {
    replaceFile(podmanWrapper(runtime), `#!/bin/sh\n# Written by aca doctor --fix: Podman has no per-runtime arguments (see aca's README, gVisor).\nexec ${runtime.path} ${runtime.args.join(' ')} "$@"\n`, 0o755);
    replaceFile(podmanDropIn(runtime), `# Written by aca doctor --fix.\n[engine.runtimes]\n${runtime.name} = ["${podmanWrapper(runtime)}"]\n`, 0o644);
    return `restart the Podman service so it reads the new runtime, then run aca doctor again`;
  },
};
