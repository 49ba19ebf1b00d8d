/**
 * The OCI runtime an engine will really run a container with. Asking for one (HostConfig.Runtime) is not enough:
 * Podman 4.3's Docker-compatible API ignores it and uses its default (runc or crun), so a session asked to run under
 * gVisor would run on the host kernel. aca reads the answer back after the create and refuses to start otherwise.
 */
import { PODMAN_LIBPOD_API, type Engine } from './client.js';

export async function runtimeInUse(engine: Engine, id: string): Promise<string | undefined> {
  if (engine.kind === 'podman') {
    // Podman's compat inspect says "oci" for every container; libpod's names the runtime.
    const libpod = await engine.http.json<{ OCIRuntime?: string }>('GET', `/v${PODMAN_LIBPOD_API}/libpod/containers/${encodeURIComponent(id)}/json`);
    return libpod.OCIRuntime;
  }
  return (await engine.inspectContainer(id)).HostConfig.Runtime as string | undefined;
}
