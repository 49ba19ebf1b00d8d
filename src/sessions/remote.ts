/**
 * Sessions on a remote engine (tcp:// or ssh://, see isRemoteEndpoint): the
 * engine cannot see this machine's files, and a bind of a host path it does
 * not have would be created there, empty. So the workspace is copied in
 * (copy mode: `aca export` brings changes back) and any other host path is
 * refused, before anything is created. The CA bundle needs nothing here: it
 * is always copied in over the API (secure-run.ts), never mounted.
 */
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { VolumeSpec } from '../parse.js';

export interface EngineLocation {
  remote: boolean;
  url: string;
}

/** Where the engine is, from the flags, a Docker context and the environment: no connection needed. */
export async function engineLocation(ctx: Context): Promise<EngineLocation> {
  const { engineIsRemote } = await (await import('../engine/index.js')).loadConnector();
  return engineIsRemote(await ctx.connectOptions());
}

export interface RemotePlanInput {
  location: EngineLocation;
  hasWorkspace: boolean;
  /** --workspace-mode, or the config's workspaceMode, with where it came from. */
  workspaceMode?: { value: string; from: string } | undefined;
  workspaceRo: boolean;
  volumes: Array<VolumeSpec & { from: string }>;
}

export interface RemotePlan {
  /** The workspace mode to use instead of the default; undefined leaves it as it was. */
  workspaceMode?: 'copy' | undefined;
  /** Said once on stderr. */
  notes: string[];
}

const isHostPath = (source: string) => source.startsWith('/');

/** Pure: what to change (or refuse) for an engine on another machine. */
export function planForRemote(input: RemotePlanInput): RemotePlan {
  const { location } = input;
  if (!location.remote) return { notes: [] };
  const remoteHint = 'The engine runs on another machine: host paths cannot be mounted there. Use a named volume, or copy files in with the workspace.';
  for (const volume of input.volumes) {
    if (isHostPath(volume.source)) {
      throw new UsageError(`${volume.from}: cannot mount ${volume.source}: the engine at ${location.url} is remote and does not have this machine's files`, { hint: remoteHint });
    }
  }
  const notes: string[] = [];
  let workspaceMode: 'copy' | undefined;
  if (input.hasWorkspace) {
    const chosen = input.workspaceMode?.value ?? (input.workspaceRo ? 'ro' : undefined);
    if (chosen && chosen !== 'copy') {
      throw new UsageError(
        `${input.workspaceMode?.from ?? '--workspace-ro'}: cannot bind the workspace: the engine at ${location.url} is remote and does not have this machine's files`,
        { hint: 'Use --workspace-mode copy (changes come back with aca export), or --no-workspace.' },
      );
    }
    if (!chosen) {
      workspaceMode = 'copy';
      notes.push(`the engine at ${location.url} is remote: the workspace is copied in; bring changes back with aca export`);
    }
  }
  return { workspaceMode, notes };
}
