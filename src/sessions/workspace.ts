/** `aca diff` and `aca export`: a copy-mode session's workspace against the host tree it was copied from. */
import type { Context } from '../context.js';
import { getArchive } from '../engine/storage.js';
import { readHostTree, readTree, type TreeEntry } from '../archive.js';
import { AcaError, UsageError } from '../errors.js';
import { applyExport, compareTrees, renderPatch, type Change } from './changes.js';
import { LABEL } from './labels.js';
import { resolveSession } from './resolve.js';
import { WORKSPACE_PATH } from './spec.js';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

interface Compared {
  session: string;
  hostDir: string;
  host: Map<string, TreeEntry>;
  inside: Map<string, TreeEntry>;
  changes: Change[];
}

async function compare(ctx: Context, query: string): Promise<Compared> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const labels = session.summary.Labels ?? {};
  if (labels[LABEL.workspaceMode] !== 'copy') {
    throw new AcaError(`session ${session.name} works on the host tree directly (workspace mode ${labels[LABEL.workspaceMode] ?? 'bind'}); there is no copy to compare`, {
      hint: 'Start sessions with --workspace-mode copy to review changes before they reach the host.',
    });
  }
  const hostDir = labels[LABEL.workspace] ?? '';
  if (!hostDir || !existsSync(hostDir)) throw new AcaError(`the workspace of ${session.name} (${hostDir || 'unknown'}) is not on this host`);
  const inside = await readTree(await getArchive(engine, session.id, WORKSPACE_PATH));
  const host = readHostTree(hostDir);
  return { session: session.name, hostDir, host, inside, changes: compareTrees(host, inside) };
}

export async function diffSession(ctx: Context, query: string): Promise<{ changes: Change[]; patch: string }> {
  const compared = await compare(ctx, query);
  return { changes: compared.changes, patch: renderPatch(compared.changes, compared.host, compared.inside) };
}

export async function exportSession(ctx: Context, query: string, dirArg?: string): Promise<{ dir: string; written: string[]; notDeleted: string[] }> {
  const compared = await compare(ctx, query);
  const dir = dirArg ? resolve(ctx.cwd, dirArg) : compared.hostDir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`export: not a directory: ${dir}`);
  // Against another directory, compare with what is there, so only real differences are written.
  const changes = dir === compared.hostDir ? compared.changes : compareTrees(readHostTree(dir), compared.inside);
  return { dir, ...applyExport(dir, changes, compared.inside) };
}
