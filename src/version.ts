import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * aca's own directory (its package.json, container/, bin/) and version, found by walking up from this module:
 * it runs from dist/bundle (the build bin/aca starts), dist/src (tests import the compiled modules) or src (vitest).
 */
function findPackage(): { dir: string; version: string } {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start, up = 0; up < 4; dir = dirname(dir), up++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'aca') return { dir, version: pkg.version };
    } catch {
      // No package.json here: one level up.
    }
  }
  return { dir: join(start, '..', '..'), version: '0.0.0' };
}

const found = findPackage();

export const VERSION: string = found.version;

/** Where aca is installed: its container/ directory holds the Dockerfiles of its images and the egress proxy. */
export const PACKAGE_DIR: string = found.dir;
