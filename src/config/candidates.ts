/**
 * A cheap look at one directory: could cosmiconfig find an aca configuration here? Loading cosmiconfig and asking
 * it about every directory from the workspace up to / costs tens of milliseconds on each `aca run`, and almost no
 * directory holds one; this answers "no" from a directory listing, and leaves every "maybe" to cosmiconfig.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** cosmiconfig 9's search places for the module name "aca", outside package.json and .config/. */
const FILES = new Set([
  '.acarc', '.acarc.json', '.acarc.yaml', '.acarc.yml', '.acarc.js', '.acarc.ts', '.acarc.cjs', '.acarc.mjs',
  'aca.config.js', 'aca.config.ts', 'aca.config.cjs', 'aca.config.mjs',
]);
const IN_DOT_CONFIG = /^acarc(?:\.(?:json|yaml|yml|js|ts|cjs|mjs))?$/;

function list(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

export function mayHoldConfig(dir: string): boolean {
  const names = list(dir);
  if (!names) return true; // unreadable: cosmiconfig tells what is wrong, if anything
  if (names.some((name) => FILES.has(name))) return true;
  if (names.includes('.config') && (list(join(dir, '.config')) ?? []).some((name) => IN_DOT_CONFIG.test(name))) return true;
  if (!names.includes('package.json')) return false;
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as unknown;
    return typeof pkg !== 'object' || pkg === null || Object.hasOwn(pkg, 'aca');
  } catch {
    return true; // a package.json that cannot be read or parsed: cosmiconfig reports it
  }
}
