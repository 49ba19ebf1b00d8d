/**
 * aca's per-user directories: its state ($XDG_STATE_HOME/aca, by default ~/.local/state/aca) and the user's own
 * configuration ($XDG_CONFIG_HOME/aca). Both are never mounted into a session (security/resolve.ts).
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The user's own configuration directory: $XDG_CONFIG_HOME/aca, by default ~/.config/aca. The only trusted one. */
export function userConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'aca') : undefined;
}

export function stateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'aca');
}

/** The state directory, created (private to the user) when missing. */
export function ensureStateDir(env: NodeJS.ProcessEnv): string {
  const dir = stateDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
