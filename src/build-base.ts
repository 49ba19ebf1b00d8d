/**
 * The base (FROM) of the images aca builds itself: aca/base:<variant> and the
 * egress proxy. Where no registry answers, the first build used to fail at
 * FROM with the engine's registry error; now the base is checked (and pulled)
 * first, and when it cannot be had aca says so in one line, with the ways out
 * and the local images that could serve instead.
 */
import type { Context } from './context.js';
import type { Engine } from './engine/index.js';
import { AcaError } from './errors.js';

export type BuildTarget = 'full' | 'alpine' | 'egress';

interface TargetFacts {
  /** The Dockerfile's own default for ARG BASE. */
  defaultBase: string;
  /** Names of local images that look like a base of the right family. */
  family: RegExp;
  familyName: string;
  what: string;
  size: string;
  time: string;
}

const DEBIAN_LIKE = /(?:^|\/)(?:debian|ubuntu)[^/]*:|:(?:bookworm|bullseye|trixie|jammy|noble|focal)\b/i;

export const TARGETS: Record<BuildTarget, TargetFacts> = {
  full: {
    defaultBase: 'debian:bookworm-slim', family: DEBIAN_LIKE, familyName: 'Debian or Ubuntu',
    what: 'Debian with git, Node 22, Python, a C toolchain and Claude Code', size: 'about 1.5 GB', time: 'usually 5 to 15 minutes',
  },
  alpine: {
    defaultBase: 'alpine:3.20', family: /(?:^|\/)alpine[^/]*:/i, familyName: 'Alpine',
    what: 'Alpine with git, Node.js, Python and Claude Code', size: 'about 600 MB', time: 'usually 3 to 10 minutes',
  },
  egress: {
    defaultBase: 'debian:bookworm-slim', family: DEBIAN_LIKE, familyName: 'Debian or Ubuntu',
    what: 'the egress proxy (Node.js on Debian)', size: 'about 180 MB', time: 'usually a minute or two',
  },
};

/** Local images whose names look like a usable base for `target` (never aca's own images). */
export function usableBases(tags: string[], target: BuildTarget): string[] {
  return tags.filter((tag) => !tag.startsWith('aca/') && !tag.includes('/aca/') && TARGETS[target].family.test(tag)).sort();
}

/** The one-line error and its hint for a base that is neither here nor pullable. */
export function missingBaseError(image: string, base: string, reason: string, target: BuildTarget, candidates: string[]): AcaError {
  const local = candidates.length > 0
    ? `Local images that look usable: ${candidates.slice(0, 5).join(', ')}${candidates.length > 5 ? ', ...' : ''}.`
    : `No ${TARGETS[target].familyName} image is on the engine: load one (docker load / podman load) first.`;
  return new AcaError(`cannot build ${image}: its base ${base} is not on the engine and cannot be pulled (${reason})`, {
    hint: `Use a base that is here: --base IMAGE, or base: IMAGE in aca's configuration; aca build --base IMAGE builds it once. ${local}`,
  });
}

/** Make sure the base of `image` is on the engine, pulling it if need be; returns the base used. */
export async function ensureBuildBase(ctx: Context, engine: Engine, image: string, base: string | undefined, target: BuildTarget): Promise<string> {
  const from = base ?? TARGETS[target].defaultBase;
  if (await engine.images.inspect(from)) return from;
  const title = `Pulling ${from}, the base of ${image}`;
  const spinner = await ctx.out.spinner(title);
  try {
    await engine.images.pull(from, (line) => { spinner.text = `${title}: ${line}`; });
    spinner.succeed(`${title}: done`);
    return from;
  } catch (error) {
    // The error below says it all, in one line.
    spinner.stop();
    const reason = (error as Error).message.replace(/^pull \S+: /, '').split('\n')[0]!.trim();
    const tags = (await engine.images.list()).flatMap((i) => i.RepoTags);
    throw missingBaseError(image, from, reason, target, usableBases(tags, target));
  }
}

/** Before a first build: what is built, from what, roughly how big and how long. */
export function announceBuild(ctx: Context, image: string, base: string, target: BuildTarget): void {
  const facts = TARGETS[target];
  ctx.out.info(`aca: building ${image} from ${base}: ${facts.what}; ${facts.size}, ${facts.time}`);
}
