/**
 * The public face of src/engine/: the module the rest of aca imports from it (beside choice.ts, its light half for
 * the program). The Engine interface (engine.ts) is the door to a container engine; beside it, the types of what
 * engines answer, aca's typed engine errors, and the stream helpers that move a session's bytes. Everything else in
 * src/engine/ is the Docker and Podman implementation.
 */
export type {
  CreateNetworkOptions, Engine, EngineCapabilities, EngineImages, EngineNetworks, EngineVolumes, ExecOptions, ExecResult,
} from './engine.js';
export type * from './types.js';
export { DETACHED_STDIO } from './types.js';
export type { EngineChoice, EngineKind } from './choice.js';
export { EngineApiError, EngineDownError, isConflict, isNotFound, parseEngineChoice, parseEngineUrl } from './choice.js';
export type { TlsFiles } from './http.js';
export type { RuntimeRegistration, RuntimeSpec } from './runtimes.js';
export type { ConnectOptions } from './connect.js';
export type { Metrics, RawStats } from './stats.js';
export { toMetrics } from './stats.js';
export { forwardInput, pumpOutput, recordingHead } from './streams.js';
export { awaitExecEnd } from './exec-end.js';
export { FrameDemuxer } from './demux.js';
export { startFailureKind, startFailureVerdict } from './start-failure.js';
export { cleanExecFailure } from './podman.js';

export { describeVersion, securityFeatures, usableGvisorRuntime } from './info.js';

/**
 * Finding and proving the engine (connect.ts): where it is, before any connection; the candidates, each pinged
 * (aca doctor); the process's one connection. Loaded on first use: most of it is needed once per process.
 */
export const loadConnector = () => import('./connect.js');
