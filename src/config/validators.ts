/** The flag parsers that config validation reuses, in one place. */
export { parseBytes, parseCpus, parseDuration, parseLabel, parsePort, parsePositiveInt, parseVolume } from '../parse.js';
import { parseEngineUrl } from '../engine/index.js';

export function parseEngineUrlSafe(value: string): void {
  parseEngineUrl(value);
}
