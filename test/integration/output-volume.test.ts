/**
 * A command's output in volume: hundreds of MiB pass through aca to a pipe
 * byte for byte, with backpressure, and nothing but the command's output
 * reaches stdout or stderr (no listener-leak warnings from Node).
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { ACA_BIN, labelled } from '../helpers/aca.js';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

const BYTES = 256 * 1024 * 1024;

describe.skipIf(!hasEngine)('large output', () => {
  const { runId, workspace } = engineSuite();

  it(`pipes ${BYTES / 1024 / 1024} MiB of stdout to a slow reader exactly, with a clean stderr`, async () => {
    const child = execa(ACA_BIN, labelled(['run', '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', `head -c ${BYTES} /dev/zero`], runId), {
      cwd: workspace,
      env: { NO_COLOR: '1' },
      stdin: 'ignore',
      buffer: { stdout: false, stderr: true },
      reject: false,
      timeout: 420_000,
    });
    // Count the bytes as they arrive, never holding them; pause now and then so aca's sinks fill and must drain.
    let count = 0;
    let nonZero = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      count += chunk.length;
      if (!nonZero && chunk.some((b) => b !== 0)) nonZero = true;
      if (count % (32 * 1024 * 1024) < chunk.length) {
        child.stdout!.pause();
        setTimeout(() => child.stdout!.resume(), 50);
      }
    });
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stderr)).toBe('');
    expect(count).toBe(BYTES);
    expect(nonZero).toBe(false);
  }, 450_000);
});
