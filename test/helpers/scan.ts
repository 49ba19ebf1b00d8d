/**
 * Searching what a checkpoint holds for a secret: its image's configuration and history, its whole filesystem (the
 * engine's export of a container made from it) and each of its volumes (an archive read through a helper container).
 * Archives are uncompressed tars, so a value written into any file shows up in the byte stream as it is.
 */
import type { ApiEngine as Engine } from '../../src/engine/client.js';
import { TEST_LABEL } from './engine.js';

/** Which of `needles` occur anywhere in a byte stream (a match may straddle two chunks). */
export async function findInStream(stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, needles: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const keep = Math.max(...needles.map((n) => Buffer.byteLength(n))) - 1;
  let tail = Buffer.alloc(0);
  for await (const chunk of stream) {
    const window = Buffer.concat([tail, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)]);
    for (const needle of needles) if (!found.has(needle) && window.includes(needle)) found.add(needle);
    tail = window.subarray(Math.max(0, window.length - keep));
  }
  return found;
}

export interface CheckpointScan {
  /** Image inspect and history. */
  config: Set<string>;
  /** The image's flattened filesystem. */
  filesystem: Set<string>;
  /** Each volume by name. */
  volumes: Record<string, Set<string>>;
}

/** Where in a checkpoint (its image id and volume names) each of `needles` occurs. */
export async function scanCheckpoint(engine: Engine, runId: string, checkpoint: { image: string; volumes: string[] }, needles: string[]): Promise<CheckpointScan> {
  const helper = (binds: string[]) =>
    engine.createStorageHelper({ name: `acatest-scan-${Math.random().toString(36).slice(2, 10)}`, image: checkpoint.image, binds, labels: { [TEST_LABEL]: runId } });
  const remove = (id: string) => engine.removeContainer(id, { force: true });
  const inspect = JSON.stringify(await engine.images.inspect(checkpoint.image));
  const history = JSON.stringify(await engine.http.json('GET', `/images/${encodeURIComponent(checkpoint.image)}/history`));
  const config = await findInStream([inspect, history], needles);

  const root = await helper([]);
  let filesystem: Set<string>;
  try {
    filesystem = await findInStream(await engine.http.stream('GET', `/containers/${root}/export`), needles);
  } finally {
    await remove(root);
  }
  const volumes: Record<string, Set<string>> = {};
  for (const volume of checkpoint.volumes) {
    const reader = await helper([`${volume}:/aca-scan:ro`]);
    try {
      volumes[volume] = await findInStream(await engine.http.stream('GET', `/containers/${reader}/archive`, { query: { path: '/aca-scan' } }), needles);
    } finally {
      await remove(reader);
    }
  }
  return { config, filesystem, volumes };
}
