/**
 * aca's base images: where their Dockerfiles live, how they are built, and
 * making sure a session's image exists before it is used.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { BuildResult, Engine } from './engine/index.js';
import { AcaError, BuildError } from './errors.js';
import { readCaBundle } from './security/ca-certs.js';
import { LABEL } from './labels.js';
import { showBuild, withProgress } from './build-progress.js';
import { announceBuild, ensureBuildBase } from './build-base.js';
import { PACKAGE_DIR } from './version.js';

export const VARIANTS = ['full', 'alpine'] as const;
export type Variant = (typeof VARIANTS)[number];
export const DEFAULT_IMAGE = 'aca/base:full';

/** The container/ folder shipped with aca. */
export const CONTAINER_DIR = join(PACKAGE_DIR, 'container');

export function baseImageTag(variant: Variant): string {
  return `aca/base:${variant}`;
}

export function variantOfTag(ref: string): Variant | undefined {
  return VARIANTS.find((v) => baseImageTag(v) === ref);
}

/**
 * The CA bundle builds and sessions should trust: the flag or config, else
 * the host's bundle when NODE_EXTRA_CA_CERTS or SSL_CERT_FILE names one.
 * Whichever it is must be a PEM bundle of certificates (readCaBundle): only
 * a copy of those certificates ever leaves this machine.
 */
export function resolveCaCerts(explicit: string | undefined, env: NodeJS.ProcessEnv, what = '--ca-certs'): string | undefined {
  if (explicit) {
    readCaBundle(explicit, what);
    return explicit;
  }
  const variable = (['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'] as const).find((name) => Boolean(env[name]) && existsSync(env[name]!));
  if (!variable) return undefined;
  readCaBundle(env[variable]!, `env ${variable}`);
  return env[variable];
}

export interface BaseBuildOptions {
  variant: Variant;
  base?: string | undefined;
  caCerts?: string | undefined;
  noCache?: boolean;
  buildArgs?: Record<string, string>;
}

/**
 * Build aca/base:<variant> from a copy of container/. The CA bundle travels as
 * aca-ca.crt (empty when none) and is used only in the builder stage, so it
 * never lands in a layer of the final image.
 */
export async function buildBaseImage(ctx: Context, engine: Engine, options: BaseBuildOptions): Promise<BuildResult> {
  const dockerfile = `Dockerfile.${options.variant}`;
  if (!existsSync(join(CONTAINER_DIR, dockerfile))) throw new AcaError(`aca's ${dockerfile} is missing from ${CONTAINER_DIR}`);
  const target = baseImageTag(options.variant);
  const base = await ensureBuildBase(ctx, engine, target, options.base, options.variant);
  announceBuild(ctx, target, base, options.variant);
  const context = mkdtempSync(join(tmpdir(), 'aca-build-'));
  try {
    for (const file of readdirSync(CONTAINER_DIR, { withFileTypes: true })) {
      if (file.isFile()) copyFileSync(join(CONTAINER_DIR, file.name), join(context, file.name));
    }
    // The certificates only, never the file itself: it was checked, and is read again here.
    writeFileSync(join(context, 'aca-ca.crt'), options.caCerts ? readCaBundle(options.caCerts, '--ca-certs') : '');
    return await runBuild(ctx, engine, {
      context,
      dockerfile,
      tags: [baseImageTag(options.variant)],
      buildArgs: { ...(options.base ? { BASE: options.base } : {}), ...(options.buildArgs ?? {}) },
      labels: { [LABEL.managed]: 'true', [LABEL.image]: 'base' },
      noCache: options.noCache ?? false,
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export interface CustomBuildOptions {
  context: string;
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  noCache: boolean;
  target?: string | undefined;
  cacheFrom?: string[] | undefined;
}

export function runBuild(ctx: Context, engine: Engine, request: CustomBuildOptions & { labels?: Record<string, string> }): Promise<BuildResult> {
  return showBuild(ctx, `Building ${request.tags[0] ?? 'image'}`, async (events) => {
    return engine.images.build({
      ...request,
      labels: request.labels ?? { [LABEL.managed]: 'true', [LABEL.image]: 'custom' },
      ...events,
    });
  });
}

/**
 * Make sure `ref` exists on the engine: aca's own base images are built from
 * container/ on first use (unless noBuild), anything else is pulled.
 */
export async function ensureImage(
  ctx: Context,
  engine: Engine,
  ref: string,
  options: { noBuild: boolean; base?: string | undefined; caCerts?: string | undefined; inspected?: Promise<unknown> | undefined },
): Promise<void> {
  // `inspected`: the same lookup, asked earlier beside other engine calls.
  if (await (options.inspected ?? engine.images.inspect(ref))) return;
  const variant = variantOfTag(ref);
  if (variant) {
    if (options.noBuild) {
      throw new AcaError(`image ${ref} does not exist and --no-build forbids building it`, { hint: `Build it with: aca build --variant ${variant}` });
    }
    ctx.out.info(`aca: ${ref} is missing; building it once, from ${CONTAINER_DIR}`);
    await buildBaseImage(ctx, engine, { variant, base: options.base, caCerts: options.caCerts });
    return;
  }
  if (options.noBuild) throw new AcaError(`image ${ref} does not exist`, { hint: 'Build or pull it first.' });
  try {
    await withProgress(ctx, `Pulling ${ref}`, (update) => engine.images.pull(ref, update));
  } catch (error) {
    if (error instanceof BuildError || error instanceof AcaError) {
      throw new AcaError(`image ${ref} is not on the engine and could not be pulled: ${error.message.replace(`pull ${ref}: `, '')}`, { cause: error });
    }
    throw error;
  }
}
