/**
 * aca's per-user directories: its state ($XDG_STATE_HOME/aca, by default ~/.local/state/aca) and the user's own
 * configuration ($XDG_CONFIG_HOME/aca). Both are never mounted into a session (security/resolve.ts).
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const readStateId = (file: string) => {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return /^[0-9a-f]{16}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A random id of this state directory, made on first use. A session carries it (LABEL.ownerState) so that the disk
 * guard of the directory it was made from, and no other, checks it and records there why it stopped it (two
 * directories of one user, or one path on two hosts sharing an engine, are two ids). Undefined when the directory
 * cannot be written.
 */
export function stateId(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(stateDir(env), 'id');
  const known = readStateId(file);
  if (known) return known;
  try {
    ensureStateDir(env);
    // Written aside and linked into place: a reader sees no file or the whole id, and the first of two racing wins.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, `${randomBytes(8).toString('hex')}\n`, { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch {
      // Made by another aca meanwhile: its id is the one.
    } finally {
      rmSync(draft, { force: true });
    }
  } catch {
    return undefined;
  }
  return readStateId(file);
}
