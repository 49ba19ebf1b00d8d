import { describe, expect, it } from 'vitest';
import { labelled, spawnAca } from '../helpers/aca.js';
import { TEST_IMAGE, sessionExists } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('signals during a foreground run', () => {
  const { runId, workspace } = engineSuite();

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`forwards ${signal}, then stops and removes the session, exiting ${code}`, async () => {
      const name = `sig-${signal.toLowerCase()}-${runId}`;
      // The command reports the signal it receives, proving it was forwarded.
      const child = spawnAca(
        labelled(['run', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', `trap 'echo got-${signal}; exit 9' ${signal.slice(3)}; echo ready; while :; do sleep 1; done`], runId),
        { cwd: workspace },
      );
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(); });
      });
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(code);
      expect(Buffer.from(result.stdout as Uint8Array).toString()).toContain(`got-${signal}`);
      expect(await sessionExists(name)).toBe(false);
    });
  }

  it('forwards SIGTERM to an exec\'d command, which the engine API alone cannot signal, exiting 143', async () => {
    const name = `sig-exec-${runId}`;
    const started = spawnAca(labelled(['run', '-d', '--name', name, '--image', TEST_IMAGE], runId), { cwd: workspace });
    expect((await started).exitCode).toBe(0);
    const child = spawnAca(['exec', name, '--', 'sh', '-c', 'trap "echo got-TERM; exit 9" TERM; echo ready; while :; do sleep 1; done'], { cwd: workspace });
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(); });
    });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(Buffer.from(result.stdout as Uint8Array).toString()).toContain('got-TERM');
  });
});
