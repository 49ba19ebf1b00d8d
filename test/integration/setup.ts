/** Shared per-file set-up for engine tests: skip (loudly) without an engine, clean up by label. */
import { afterAll, expect, inject } from 'vitest';
import { rmSync } from 'node:fs';
import { aca, bindableDir, labelled, testRunId, type AcaOptions } from '../helpers/aca.js';
import { removeLabelled } from '../helpers/engine.js';

export const hasEngine = inject('engineKind') !== 'none';
export const engineKind = inject('engineKind');
/** The isolation this pass gives every session (.ci/run's third pass: gvisor); see test/helpers/aca.ts. */
export const isolation = process.env.ACA_ISOLATION ?? 'container';
export const underGvisor = isolation === 'gvisor';

export function engineSuite() {
  const runId = testRunId();
  const workspace = bindableDir('aca-ws-');
  afterAll(async () => {
    if (hasEngine) await removeLabelled(runId);
    rmSync(workspace, { recursive: true, force: true });
  });
  return {
    runId,
    workspace,
    /** aca with this file's label on every session it creates, run in the workspace. */
    aca: (args: string[], options: AcaOptions = {}) => aca(labelled(args, runId), { cwd: workspace, ...options }),
  };
}

/** Assert a command succeeded, showing its stderr when it did not. */
export function expectOk(result: { exitCode: number; stderr: string }): void {
  expect(result.exitCode, result.stderr).toBe(0);
}
