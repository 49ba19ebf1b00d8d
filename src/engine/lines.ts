/** Newline-delimited JSON from the engine: build and pull progress, events. */
import { StringDecoder } from 'node:string_decoder';

export interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
  message?: string;
}

/**
 * Read a stream of JSON lines to its end, one call per non-empty line; a line that is not JSON is passed on as
 * `{ stream: line }` (`T` should allow that, as build output does).
 */
export async function readJsonLines<T = JsonMessage>(stream: AsyncIterable<unknown>, onMessage: (message: T) => void): Promise<void> {
  let buffered = '';
  const handle = (line: string) => {
    const text = line.trim();
    if (!text) return;
    let message: T;
    try {
      message = JSON.parse(text) as T;
    } catch {
      message = { stream: `${text}\n` } as T;
    }
    onMessage(message);
  };
  // Stream mode: a character split across two chunks is decoded once both have come.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      handle(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  handle(buffered + decoder.end());
}
