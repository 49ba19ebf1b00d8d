/** What `aca build` does with its flags: a base-image build or a custom one. */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Context } from './context.js';
import type { BuildResult } from './engine/index.js';
import { UsageError } from './errors.js';
import { loadConfig } from './config/load.js';
import { buildBaseImage, resolveCaCerts, runBuild, VARIANTS, type Variant } from './images.js';

export interface BuildFlags {
  variant: string;
  base?: string | undefined;
  file?: string | undefined;
  context?: string | undefined;
  tags: string[];
  noCache: boolean;
  buildArgs: string[];
  caCerts?: string | undefined;
}

function parseBuildArgs(entries: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--build-arg: expected K=V, got "${entry}"`);
    args[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return args;
}

export async function buildFromFlags(ctx: Context, flags: BuildFlags): Promise<BuildResult> {
  const buildArgs = parseBuildArgs(flags.buildArgs);
  if (!flags.file && flags.context) throw new UsageError('a build CONTEXT is only used with -f DOCKERFILE');
  if (!flags.file) {
    if (!VARIANTS.includes(flags.variant as Variant)) {
      throw new UsageError(`--variant: unknown variant "${flags.variant}" (use ${VARIANTS.join(' or ')})`);
    }
    if (flags.tags.length > 0) throw new UsageError('-t applies to -f builds; base images are tagged aca/base:<variant>');
    const config = await loadConfig({ workspace: ctx.cwd, env: ctx.env, warn: (m) => ctx.out.warn(m) });
    const caCerts = resolveCaCerts(flags.caCerts ?? config.values.caCerts, ctx.env);
    const engine = await ctx.engine();
    return buildBaseImage(ctx, engine, {
      variant: flags.variant as Variant,
      base: flags.base ?? config.values.base,
      caCerts,
      noCache: flags.noCache,
      buildArgs,
    });
  }
  const context = resolve(ctx.cwd, flags.context ?? '.');
  if (!existsSync(context) || !statSync(context).isDirectory()) throw new UsageError(`build context is not a directory: ${context}`);
  const dockerfile = resolve(ctx.cwd, flags.file);
  if (!existsSync(dockerfile)) throw new UsageError(`-f: no such file: ${dockerfile}`);
  const inContext = relative(context, dockerfile);
  if (inContext.startsWith('..') || isAbsolute(inContext)) {
    throw new UsageError(`-f: ${dockerfile} must be inside the build context ${context}`);
  }
  const engine = await ctx.engine();
  return runBuild(ctx, engine, { context, dockerfile: inContext, tags: flags.tags, buildArgs, noCache: flags.noCache });
}
