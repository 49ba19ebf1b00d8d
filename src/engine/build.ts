/**
 * Image builds through dockerode, loaded only here: it packs the context
 * (honouring .dockerignore) and streams it to the engine. The engine reports
 * build failures as JSON lines inside a 200 response, so every line is checked.
 */
import { readdirSync } from 'node:fs';
import { BuildError } from '../errors.js';
import type { Engine } from './client.js';
import { readJsonLines } from './client.js';
import { dockerStepLine } from './podman.js';

export interface BuildRequest {
  context: string;
  /** Path of the Dockerfile, relative to the context. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache: boolean;
  /** Called with "Step 3/9 : RUN ..." as each step starts. */
  onStep?: (step: string) => void;
  /** Every line of build output. */
  onOutput?: (line: string) => void;
}

export interface BuildResult {
  id: string;
  tags: string[];
}

const STEP = /^(?:Step|STEP) \d+\/\d+ ?: ?/;
const TAIL_LINES = 20;

async function dockerodeFor(engine: Engine) {
  const { default: Docker } = await import('dockerode');
  const ep = engine.http.endpoint;
  if (ep.protocol === 'unix') return new Docker({ socketPath: ep.socketPath! });
  if (ep.protocol === 'ssh') {
    return new Docker({ protocol: 'ssh', host: ep.hostname!, ...(ep.port ? { port: ep.port } : {}), ...(ep.user ? { username: ep.user } : {}) });
  }
  return new Docker({ protocol: ep.protocol, host: ep.hostname!, port: ep.port! });
}

export async function buildImage(engine: Engine, request: BuildRequest): Promise<BuildResult> {
  const docker = await dockerodeFor(engine);
  const src = readdirSync(request.context);
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.buildImage(
      { context: request.context, src },
      {
        t: request.tags,
        dockerfile: request.dockerfile,
        buildargs: request.buildArgs,
        labels: request.labels,
        nocache: request.noCache,
        rm: true,
        forcerm: true,
      } as never,
    )) as unknown as NodeJS.ReadableStream;
  } catch (error) {
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
      request.onOutput?.(line);
      if (STEP.test(line)) {
        step = line.trim();
        tail = [];
        request.onStep?.(step);
        continue;
      }
      // The legacy builder's own bookkeeping lines are not the step's output.
      if (/^ ---> |^Removing intermediate container /.test(line)) continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const built = /^Successfully built ([0-9a-f]+)/.exec(line);
      if (built && !id) id = built[1]!;
    }
  });
  // Podman reports the id only as text; the tag is authoritative either way.
  const image = request.tags[0] ? await engine.inspectImage(request.tags[0]) : undefined;
  if (image) id = image.Id;
  if (!id) throw new BuildError('build finished without producing an image');
  return { id, tags: request.tags };
}
