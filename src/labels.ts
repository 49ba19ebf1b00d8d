/**
 * Labels are how aca finds what it owns. Every engine object aca creates
 * carries aca.managed=true; nothing without it is ever touched.
 */
export const LABEL = {
  managed: 'aca.managed',
  session: 'aca.session',
  workspace: 'aca.workspace',
  created: 'aca.created',
  owner: 'aca.owner',
  ownerHost: 'aca.owner.host',
  ownerPid: 'aca.owner.pid',
  ownerBoot: 'aca.owner.boot',
  /** The id of the state directory of the aca that made the session (state-dir.ts stateId): its disk guard is that directory's. */
  ownerState: 'aca.owner.state',
  mode: 'aca.mode',
  version: 'aca.version',
  image: 'aca.image',
  /** What a volume holds: home, workspace, cache or checkpoint. */
  volume: 'aca.volume',
  cache: 'aca.cache',
  /** A short-lived container aca uses internally (never a session). */
  helper: 'aca.helper',
  /** When a detached session expires (ISO time), from --ttl. */
  expires: 'aca.expires',
  checkpoint: 'aca.checkpoint',
  checkpointOf: 'aca.checkpoint.session',
  /** On a checkpoint's volumes: it paused its session (gc resumes it if the checkpoint was killed). */
  checkpointPaused: 'aca.checkpoint.paused',
  /** On a checkpoint's image: the image its session's line began with, which its volume copies' helpers are made of. */
  checkpointHelperImage: 'aca.checkpoint.helper-image',
  workspaceMode: 'aca.workspace.mode',
  /** What `aca monitor --supervise` does when the session turns unhealthy: restart or stop. */
  onUnhealthy: 'aca.on-unhealthy',
  /** "true": every sample of the session is appended to its history (aca monitor --history). */
  record: 'aca.record',
  /** The session's disk limit in bytes (--disk), enforced by aca's periodic check (disk-limit.ts). */
  disk: 'aca.disk',
  /** The devcontainer.json a session follows: its path and the first 12 hex digits of its sha256. */
  devcontainer: 'aca.devcontainer',
  /** The agent preset a session runs (--agent). */
  agent: 'aca.agent',
  /** The subscription login files (--agent-login) copied into the home, relative to it, comma-separated. */
  agentLogin: 'aca.agent.login',
  /** The branch a --branch session works on: un-exported work until `aca merge` (see sessions/branch-state.ts). */
  branch: 'aca.branch',
  /** "true": an environment opened by `aca mcp` (src/mcp/); its purpose is in aca.mcp.purpose. */
  mcp: 'aca.mcp',
} as const;

export const MANAGED_FILTER = `${LABEL.managed}=true`;

/** The engine-side container name of a session: visible and obvious in `docker ps`. */
export function containerName(session: string): string {
  return `aca-${session}`;
}

/** The labels of a storage helper (Engine.createStorageHelper): gc finds one its caller left behind by them. */
export function storageHelperLabels(labels: Record<string, string>): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.helper]: 'storage', ...labels };
}
