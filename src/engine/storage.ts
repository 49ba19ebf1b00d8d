/** Named volumes over the Engine API: a session's home, caches, a workspace copy. */
import type { EngineHttp } from './http.js';
import type { EngineVolumes } from './engine.js';
import { isConflict, isNotFound } from './errors.js';
import { matchesAllLabels } from './podman.js';
import type { VolumeInfo } from './types.js';

export class ApiVolumes implements EngineVolumes {
  /** `checkLabels`: the engine may OR several label filters (Podman < 4.6, see matchesAllLabels), so check them here. */
  constructor(private readonly http: EngineHttp, private readonly checkLabels: boolean) {}

  async create(name: string, labels: Record<string, string>): Promise<void> {
    await this.http.json('POST', '/volumes/create', { body: { Name: name, Labels: labels } });
  }

  async inspect(name: string): Promise<VolumeInfo | undefined> {
    try {
      return await this.http.json<VolumeInfo>('GET', `/volumes/${encodeURIComponent(name)}`);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(labels: string[]): Promise<VolumeInfo[]> {
    const result = await this.http.json<{ Volumes: VolumeInfo[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify({ label: labels }) } });
    // Never act on another session's volume.
    return (result.Volumes ?? []).filter((v) => !this.checkLabels || matchesAllLabels(v.Labels, labels));
  }

  async remove(name: string): Promise<boolean> {
    try {
      await this.http.json('DELETE', `/volumes/${encodeURIComponent(name)}`);
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      if (isConflict(error)) return false;
      throw error;
    }
  }
}
