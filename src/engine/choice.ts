/**
 * The light half of the engine interface: which engine was asked for, and aca's typed engine errors, without loading
 * the rest of src/engine/. The program (commands/cli.ts) needs these on every command, `aca --version` included,
 * before it knows whether the command talks to an engine at all; index.ts re-exports them for everything else.
 * Also the probe that tells an engine's socket from any other, for the mount checks (light: node:http on demand).
 */
export type { EngineChoice, EngineKind } from './endpoint.js';
export { parseEngineChoice, parseEngineUrl } from './endpoint.js';
export { EngineApiError, EngineDownError, isConflict, isNotFound } from './errors.js';
export { answersEngineApi } from './socket-probe.js';
