/** Images over the Engine API: aca's base images, a devcontainer's build, checkpoints. */
import type { EngineHttp } from './http.js';
import type { EngineImages } from './engine.js';
import { isConflict, isNotFound } from './errors.js';
import { readJsonLines } from './lines.js';
import { matchesAllLabels } from './podman.js';
import type { BuildRequest, BuildResult, ImageInspect, ImageSummary } from './types.js';
import { BuildError } from '../errors.js';

export class ApiImages implements EngineImages {
  /**
   * `checkLabels`: the engine answers several label filters on images with nothing (Podman 4.3, see
   * matchesAllLabels), so ask with one and check them all here. `compressContext`: a build's context goes compressed
   * (a remote engine; a local socket is faster without).
   */
  constructor(private readonly http: EngineHttp, private readonly options: { checkLabels: boolean; compressContext: boolean }) {}

  /** The images on the engine that have a name (untagged layers left by builds are not). */
  async list(): Promise<Array<{ Id: string; RepoTags: string[]; Size: number }>> {
    const images = await this.http.json<Array<{ Id: string; RepoTags?: string[] | null; Size: number }>>('GET', '/images/json');
    return images
      .map((image) => ({ Id: image.Id, Size: image.Size, RepoTags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>') }))
      .filter((image) => image.RepoTags.length > 0);
  }

  async listLabelled(labels: string[], options: { dangling?: boolean } = {}): Promise<ImageSummary[]> {
    const asked = this.options.checkLabels ? labels.slice(-1) : labels;
    const images = await this.http.json<ImageSummary[]>('GET', '/images/json', { query: { filters: JSON.stringify({ label: asked, ...danglingFilter(options) }) } });
    return this.options.checkLabels ? images.filter((image) => matchesAllLabels(image.Labels, labels)) : images;
  }

  async inspect(ref: string): Promise<ImageInspect | undefined> {
    try {
      return await this.http.json<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Pull an image. The engine reports failures as JSON lines inside a 200
   * response, so every line is checked for an error.
   */
  async pull(ref: string, onProgress?: (line: string) => void): Promise<void> {
    const [name, tag] = splitReference(ref);
    const res = await this.http.stream('POST', '/images/create', { query: { fromImage: name, tag } });
    await readJsonLines(res, (message) => {
      const error = message.errorDetail?.message ?? message.error;
      if (error) throw new BuildError(`pull ${ref}: ${error}`);
      if (message.status && onProgress) onProgress(message.id ? `${message.id}: ${message.status}` : message.status);
    }).catch((error: unknown) => { throw this.http.lost(error); });
  }

  /** Loaded on first use: packing a context needs tar-fs. */
  async build(request: BuildRequest): Promise<BuildResult> {
    const { buildImage } = await import('./build.js');
    return buildImage(this, this.http, request, this.options.compressContext);
  }

  async remove(ref: string): Promise<boolean> {
    try {
      await this.http.json('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { noprune: false } });
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      if (isConflict(error)) return false;
      throw error;
    }
  }
}

/** The images filter for dangling (untagged) images, when asked. */
function danglingFilter(options: { dangling?: boolean }): Record<string, string[]> {
  return options.dangling === undefined ? {} : { dangling: [String(options.dangling)] };
}

/** "repo/name:tag" → ["repo/name", "tag"], minding registry ports and digests. */
export function splitReference(ref: string): [string, string] {
  if (ref.includes('@')) return [ref, ''];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}
