/** aca/base:full for the tests that run real agents: built once (layers cached by the engine) from the local Debian root. */
import { testEngine } from './engine.js';
import type { AcaResult } from './aca.js';

/** The Debian root .ci/test-images.sh builds: the FROM for aca's base image where no registry answers. */
export const DEBIAN = 'aca-test/debian:bookworm';
export const FULL_IMAGE = 'aca/base:full';

/** Whether the Debian root is there; without it the agent tests are skipped, loudly (and fail under CI). */
export async function debianPresent(hasEngine: boolean, what: string): Promise<boolean> {
  const present = hasEngine && (await (await testEngine()).images.inspect(DEBIAN)) !== undefined;
  if (hasEngine && !present) {
    if (process.env.CI === 'true') throw new Error(`CI=true but ${DEBIAN} is missing: .ci/test-images.sh builds it`);
    process.stderr.write(`\n*** ${DEBIAN} is missing: ${what} is SKIPPED (run bash .ci/test-images.sh)\n\n`);
  }
  return present;
}

/** `aca build`: a no-op when the image is current (every step cached); the host CA bundle goes in through the default. */
export function buildFullImage(aca: (args: string[], options?: { timeout?: number }) => Promise<AcaResult>): Promise<AcaResult> {
  return aca(['build', '--base', DEBIAN, '--json'], { timeout: 900_000 });
}
