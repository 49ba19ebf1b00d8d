/**
 * Find, read and check the workspace's devcontainer.json for a new session. Everything that would reach the host
 * or widen the sandbox is refused, one line naming the property, unless the user trusts the file's exact contents
 * (`aca trust PATH`); what aca does not support is said on stderr, or refused with --strict.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { chooseDevcontainer } from './discover.js';
import { mapDevcontainer, type DevcontainerPlan } from './map.js';
import { readDevcontainer } from './read.js';
import { devcontainerId } from './variables.js';

export interface ResolvedDevcontainer {
  file: string;
  sha256: string;
  workspace: string;
  plan: DevcontainerPlan;
  /** The session's image: the file's, or the tag its build gets. */
  image: string | undefined;
}

/** The tag of a devcontainer build: the workspace's id, and a hash of the file and its Dockerfile. */
export function devcontainerTag(workspace: string, sha256: string, build: NonNullable<DevcontainerPlan['build']>): string {
  const hash = createHash('sha256').update(sha256);
  try {
    hash.update(readFileSync(join(build.context, build.dockerfile)));
  } catch {
    /* the build reports a missing Dockerfile */
  }
  return `aca-devcontainer/${devcontainerId(workspace)}:${hash.digest('hex').slice(0, 12)}`;
}

export interface DevcontainerInput {
  workspace: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** --devcontainer PATH|NAME, or false for --no-devcontainer. */
  choice: string | false | undefined;
  strict: boolean;
  trustState: (file: string, sha256: string) => 'trusted' | 'changed' | 'untrusted';
  say: (line: string) => void;
}

export function resolveDevcontainer(input: DevcontainerInput): ResolvedDevcontainer | undefined {
  if (input.choice === false) return undefined;
  const path = chooseDevcontainer(input.workspace, input.cwd, input.choice);
  if (!path) return undefined;
  const shown = relative(input.cwd, path) || path;
  const file = readDevcontainer(path);
  const plan = mapDevcontainer({ path: shown, config: file.config, workspace: input.workspace, env: input.env });
  if (plan.unsupported.length > 0 && input.strict) {
    throw new UsageError(`${shown}: ${plan.unsupported[0]} (refused with --strict)`);
  }
  for (const line of plan.unsupported) input.say(`aca: ${shown}: ${line}`);
  if (plan.widenings.length > 0) {
    const state = input.trustState(path, file.sha256);
    if (state !== 'trusted') {
      const more = plan.widenings.length > 1 ? `; ${plan.widenings.length - 1} more: ${plan.widenings.slice(1).map((w) => w.replace(/^[^"]*"([^"]+)".*$/, '$1')).join(', ')}` : '';
      throw new UsageError(`${plan.widenings[0]}: refused: ${shown} is ${state === 'changed' ? 'changed since you trusted it' : 'not trusted'}${more}`, {
        hint: `Read it, then trust its exact contents with: aca trust ${shown} (or ignore it with --no-devcontainer)`,
      });
    }
  }
  for (const note of plan.notes) input.say(`aca: ${shown}: ${note}`);
  const image = plan.build ? devcontainerTag(input.workspace, file.sha256, plan.build) : plan.image;
  return { file: path, sha256: file.sha256, workspace: input.workspace, plan, image };
}
