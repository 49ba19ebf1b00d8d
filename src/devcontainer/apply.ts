/**
 * The workspace's devcontainer.json as the lowest layer of a new session's settings: below the configuration
 * files and the flags, above aca's defaults. Limits it asks for never exceed aca's defaults (a project file may
 * lower them, like any project file); widenings only reach here from a file the user trusts.
 */
import type { Context } from '../context.js';
import type { AcaConfig } from '../config/schema.js';
import { trustState } from '../config/trust.js';
import { UsageError } from '../errors.js';
import { parseCpus, parseMemory } from '../parse.js';
import type { Relaxation } from '../security/relaxations.js';
import { devcontainerCandidates } from './discover.js';
import type { ResolvedDevcontainer } from './resolve.js';

export interface DevcontainerFlags {
  image?: string;
  /** --devcontainer NAME|PATH, or false for --no-devcontainer. */
  devcontainer?: string | false;
  strict?: boolean;
}

/** The devcontainer.json that applies to a new session, if any: only where nothing else names an image. */
export async function devcontainerFor(ctx: Context, flags: DevcontainerFlags, file: AcaConfig, workspace: string | undefined): Promise<ResolvedDevcontainer | undefined> {
  if (typeof flags.devcontainer === 'string' && flags.image) throw new UsageError('--devcontainer and --image: choose one');
  if (!workspace || flags.image || flags.devcontainer === false || (file.image && typeof flags.devcontainer !== 'string')) return undefined;
  // Most workspaces have none: the parser loads only when there is a file to read.
  if (typeof flags.devcontainer !== 'string' && devcontainerCandidates(workspace).length === 0) return undefined;
  const { resolveDevcontainer } = await import('./resolve.js');
  return resolveDevcontainer({
    workspace,
    cwd: ctx.cwd,
    env: ctx.env,
    choice: flags.devcontainer,
    strict: Boolean(flags.strict),
    trustState: (path, sha256) => trustState(ctx.env, path, sha256),
    say: (line) => ctx.out.info(line),
  });
}

/** The image: the file's, or the tag its build will have. */
export function devcontainerImage(dc: ResolvedDevcontainer | undefined): string | undefined {
  return dc?.image;
}

/** A limit the file asks for, never above aca's default; says so when it had to lower it. */
export function devcontainerLimit(ctx: Context, dc: ResolvedDevcontainer | undefined, kind: 'memory' | 'cpus', fallback: string): string {
  const asked = dc?.plan.limits[kind];
  if (!asked) return fallback;
  const parse = kind === 'memory' ? (v: string) => parseMemory(v, 'devcontainer memory') : (v: string) => parseCpus(v, 'devcontainer cpus');
  if (parse(asked) <= parse(fallback)) return asked;
  ctx.out.info(`aca: devcontainer.json asks for ${kind} ${asked}: the session gets ${fallback}; raise it with --${kind}`);
  return fallback;
}

export function devcontainerPids(dc: ResolvedDevcontainer | undefined, fallback: number): number {
  const asked = Number(dc?.plan.limits.pids);
  return Number.isInteger(asked) && asked > 0 && asked < fallback ? asked : fallback;
}

/** What the trusted file widened, attributed to it. */
export function devcontainerRelaxations(dc: ResolvedDevcontainer | undefined): Relaxation[] {
  if (!dc || dc.plan.widenings.length === 0) return [];
  const from = `trusted devcontainer.json ${dc.file}`;
  return [
    ...dc.plan.volumes.filter((v) => v.startsWith('/')).map((v) => ({ what: `volume=${v}`, from })),
    ...(dc.plan.initializeCommand ? [{ what: 'initialize-command', from }] : []),
  ];
}
