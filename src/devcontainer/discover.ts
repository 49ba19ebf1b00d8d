/**
 * Where a workspace describes its development environment, found as the reference CLI (devcontainers/cli) finds it:
 * `.devcontainer/devcontainer.json`, `.devcontainer.json`, or `.devcontainer/<name>/devcontainer.json`.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';

function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** Every devcontainer.json of the workspace, in the reference CLI's order of preference. */
export function devcontainerCandidates(workspace: string): string[] {
  const found = [join(workspace, '.devcontainer', 'devcontainer.json'), join(workspace, '.devcontainer.json')].filter(isFile);
  let entries: string[] = [];
  try {
    entries = readdirSync(join(workspace, '.devcontainer')).sort();
  } catch {
    /* no .devcontainer directory */
  }
  for (const name of entries) {
    const file = join(workspace, '.devcontainer', name, 'devcontainer.json');
    if (isFile(file)) found.push(file);
  }
  return found;
}

/**
 * The file to use: `choice` is a path (relative to the workspace or the current directory) or the name of a
 * `.devcontainer/<name>/` folder; without a choice the top-level file wins, and several named ones are an error.
 */
export function chooseDevcontainer(workspace: string, cwd: string, choice?: string): string | undefined {
  const candidates = devcontainerCandidates(workspace);
  if (choice !== undefined) {
    const byName = join(workspace, '.devcontainer', choice, 'devcontainer.json');
    if (!choice.includes('/') && isFile(byName)) return byName;
    const path = isAbsolute(choice) ? choice : resolve(cwd, choice);
    if (isFile(path)) return path;
    throw new UsageError(`--devcontainer: no devcontainer.json at ${choice}${candidates.length ? ` (found: ${candidates.map((c) => relative(workspace, c)).join(', ')})` : ''}`);
  }
  const [first, ...rest] = candidates;
  if (!first) return undefined;
  const topLevel = [join(workspace, '.devcontainer', 'devcontainer.json'), join(workspace, '.devcontainer.json')];
  if (topLevel.includes(first)) return first;
  if (rest.length > 0) {
    throw new UsageError(`several devcontainer.json files: ${candidates.map((c) => relative(workspace, c)).join(', ')}`, {
      hint: 'Pick one with --devcontainer NAME (the folder under .devcontainer/) or PATH, or ignore them with --no-devcontainer.',
    });
  }
  return first;
}
