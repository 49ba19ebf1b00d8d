import { existsSync, readFileSync } from 'node:fs';

/**
 * aca's version, from its package.json: two levels up from dist/src/version.js,
 * one level up when the TypeScript source runs directly (tests).
 */
function readVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'aca') return pkg.version;
    }
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();
