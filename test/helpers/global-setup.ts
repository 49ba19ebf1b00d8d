/**
 * Before the engine tests (never the unit tests: see vitest.config.ts): find
 * the engine and make sure the local test images exist.
 * With CI=true and no engine the suite fails; elsewhere engine tests are
 * skipped with a loud notice. After the suite: remove everything tests labelled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { removeLabelled, suiteId, TEST_IMAGE } from './engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engineKind: string;
  }
}

export default async function setup(project: TestProject) {
  suiteId(); // set before the workers start, so they inherit it
  if (!existsSync(new URL('../../dist/commands/cli.js', import.meta.url))) {
    throw new Error('dist/ is missing: run the tests with `npm test`, which builds first');
  }
  const { connect } = await import('../../dist/src/engine/connect.js');
  const { parseEngineChoice } = await import('../../dist/src/engine/endpoint.js');
  let kind = 'none';
  try {
    const engine = await connect({ engine: parseEngineChoice(process.env.ACA_ENGINE), env: process.env });
    try {
      kind = engine.kind;
      if (!(await engine.images.inspect(TEST_IMAGE))) {
        execFileSync('bash', [new URL('../../.ci/test-images.sh', import.meta.url).pathname, '--only', 'busybox'], { stdio: 'inherit' });
      }
    } finally {
      engine.http.close();
    }
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`CI=true but no container engine answered: ${(error as Error).message}`);
    process.stderr.write(`\n*** No container engine: engine tests are SKIPPED. (${(error as Error).message})\n\n`);
  }
  project.provide('engineKind', kind);
  return async () => {
    if (kind !== 'none') await removeLabelled();
  };
}
