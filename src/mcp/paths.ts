/**
 * Paths an MCP client names inside an environment: relative to /workspace, or absolute under it. Pure: the client's
 * string is normalised here; the in-session check (files.ts) then refuses symlinks that leave the workspace.
 */
import { posix } from 'node:path';
import { WORKSPACE_PATH } from '../security.js';

export class PathRefused extends Error {}

/** The absolute, normalised path under /workspace, or a refusal that names the path. */
export function workspacePath(given: string): string {
  if (given.includes('\0')) throw new PathRefused('the path contains a NUL byte');
  const raw = given.trim() === '' ? '.' : given;
  if (raw.split('/').includes('..')) throw new PathRefused(`"${given}" contains "..": name paths inside the workspace without it`);
  const absolute = raw.startsWith('/') ? posix.normalize(raw) : posix.normalize(posix.join(WORKSPACE_PATH, raw));
  const clean = absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
  if (clean !== WORKSPACE_PATH && !clean.startsWith(`${WORKSPACE_PATH}/`)) {
    throw new PathRefused(`"${given}" is outside ${WORKSPACE_PATH}: only the workspace can be read or written`);
  }
  return clean;
}
