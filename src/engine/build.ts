/**
 * Image builds: the context is packed here (honouring .dockerignore) and
 * streamed to the engine. The engine reports build failures as JSON lines
 * inside a 200 response, so every line is checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { BuildError } from '../errors.js';
import type { EngineImages } from './engine.js';
import type { EngineHttp } from './http.js';
import type { BuildRequest, BuildResult, Query } from './types.js';
import { readJsonLines } from './lines.js';
import { dockerStepLine } from './podman.js';
import { EngineDownError, RequestBodyError } from './errors.js';

export type { BuildRequest, BuildResult } from './types.js';

const require = createRequire(import.meta.url);
const STEP = /^(?:Step|STEP) \d+\/\d+ ?: ?/;
const TAIL_LINES = 20;

/**
 * The build context as a tar stream, packed as the docker CLI (and dockerode)
 * pack it: the context's top-level entries, minus what .dockerignore excludes.
 * tar-fs and @balena/dockerignore are CommonJS without types, hence require().
 */
function packContext(context: string, compress: boolean): Readable {
  const tar = require('tar-fs') as { pack(dir: string, options: { entries: string[]; ignore?: (path: string) => boolean }): Readable };
  let entries = readdirSync(context);
  let ignore: ((path: string) => boolean) | undefined;
  const ignoreFile = join(context, '.dockerignore');
  if (existsSync(ignoreFile)) {
    const dockerIgnore = require('@balena/dockerignore') as (options: { ignorecase: boolean }) => { add(rules: string): { createFilter(): (path: string) => boolean } };
    const keep = dockerIgnore({ ignorecase: false }).add(readFileSync(ignoreFile, 'utf8')).createFilter();
    entries = entries.filter(keep);
    ignore = (path) => !keep(relative(context, path));
  }
  const packed = tar.pack(context, { entries, ...(ignore ? { ignore } : {}) });
  if (!compress) return packed;
  const { createGzip } = require('node:zlib') as typeof import('node:zlib');
  // pipeline, not pipe: an unreadable file in the context must reach the request as an error.
  return pipeline(packed, createGzip(), () => { /* the request reports the error */ });
}

/** POST /build's query; tags repeat `t`, as the API wants. */
export function buildQuery(request: BuildRequest): Query {
  return {
    t: request.tags,
    dockerfile: request.dockerfile,
    buildargs: JSON.stringify(request.buildArgs),
    labels: JSON.stringify(request.labels),
    nocache: String(request.noCache),
    rm: 'true',
    forcerm: 'true',
    ...(request.target ? { target: request.target } : {}),
    ...(request.cacheFrom?.length ? { cachefrom: JSON.stringify(request.cacheFrom) } : {}),
  };
}

/**
 * Builds go through aca's own HTTP client, so they reach the engine exactly as
 * every other request does (TLS files, Docker contexts, ssh through the system
 * ssh client), and no ssh2 module is ever loaded (dockerode's docker-modem
 * loads it eagerly).
 */
export async function buildImage(images: EngineImages, http: EngineHttp, request: BuildRequest, compress: boolean): Promise<BuildResult> {
  const body = packContext(request.context, compress);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await http.stream('POST', '/build', {
      query: buildQuery(request),
      rawBody: body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  } catch (error) {
    // The engine down, or the context unreadable, is said as such; the rest is the build's failure.
    if (error instanceof EngineDownError || error instanceof RequestBodyError) throw error;
    throw new BuildError(`build failed: ${(error as Error).message}`, { cause: error });
  }

  let step = '';
  let tail: string[] = [];
  let id = '';
  await readJsonLines(stream, (message) => {
    const error = message.errorDetail?.message ?? message.error;
    if (error) {
      const output = tail.length > 0 ? `\n${tail.join('\n')}` : '';
      throw new BuildError(`build failed at ${step || 'the first step'}: ${error.trim()}${output}`);
    }
    if (message.aux?.ID) id = message.aux.ID;
    for (const raw of (message.stream ?? '').split('\n')) {
      if (!raw.trim()) continue;
      const line = dockerStepLine(raw);
      if (STEP.test(line)) {
        step = line.trim();
        tail = [];
        request.onStep?.(step);
        continue;
      }
      // The legacy builder's own bookkeeping lines are not the step's output.
      if (/^\s*---> |^Removing intermediate container /.test(line)) continue;
      request.onOutput?.(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const built = /^Successfully built ([0-9a-f]+)/.exec(line);
      if (built && !id) id = built[1]!;
    }
  }).catch((error: unknown) => { throw http.lost(error); });
  // Podman reports the id only as text; the tag is authoritative either way.
  const image = request.tags[0] ? await images.inspect(request.tags[0]) : undefined;
  if (image) id = image.Id;
  if (!id) throw new BuildError('build finished without producing an image');
  return { id, tags: request.tags };
}
