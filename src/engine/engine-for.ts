/** Which implementation serves a proven connection: Podman's where the ping said Podman (see connect.ts). */
import { ApiEngine } from './client.js';
import type { EngineInfo } from './endpoint.js';
import type { EngineHttp } from './http.js';
import { PodmanEngine } from './podman-engine.js';

export function engineFor(http: EngineHttp, info: EngineInfo): ApiEngine {
  return info.kind === 'podman' ? new PodmanEngine(http, info) : new ApiEngine(http, info);
}
