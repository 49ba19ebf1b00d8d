/** Engine events over the Engine API: as they come (monitor, exit alerts), or those of a past window. */
import type { IncomingMessage } from 'node:http';
import { type EngineHttp, TIMEOUT } from './http.js';
import { readJsonLines } from './lines.js';
import type { EngineEvent } from './types.js';

/**
 * Engine events as a stream of JSON lines. With `until`, the engine answers
 * with the events of that past window and ends the response.
 */
function events(http: EngineHttp, filters: Record<string, string[]>, window: { since?: number; until?: number } = {}): Promise<IncomingMessage> {
  return http.stream('GET', '/events', {
    query: { filters: JSON.stringify(filters), since: window.since?.toFixed(3), until: window.until?.toFixed(3) },
    // Without an end, the stream waits for events that may never come (see ApiEngine.logs()).
    ...(window.until === undefined ? { timeoutMs: TIMEOUT.none } : {}),
  });
}

export async function watchEvents(http: EngineHttp, filters: Record<string, string[]>, onEvent: (event: EngineEvent) => void): Promise<{ stop(): void }> {
  const res = await events(http, filters);
  // Ended by stop(), or by the engine going away: either way no more events, and nothing to report.
  readJsonLines<EngineEvent>(res, onEvent).catch(() => {});
  return { stop: () => res.destroy() };
}

export async function pastEvents(http: EngineHttp, filters: Record<string, string[]>, window: { since: number; until: number }): Promise<EngineEvent[]> {
  const found: EngineEvent[] = [];
  await readJsonLines<EngineEvent>(await events(http, filters, window), (event) => found.push(event));
  return found;
}
