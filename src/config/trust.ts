/**
 * The project files the user trusts, by exact contents: $XDG_STATE_HOME/aca/trusted.json maps a file's path to the
 * sha256 of the bytes the user trusted. A file whose bytes differ is untrusted again (an agent that rewrites a trusted
 * file loses the trust with it). Like direnv's `allow`, trust is per path and per content; unlike mise's, a
 * changed file is never trusted by path alone.
 */
import { readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureStateDir, stateDir } from '../state-dir.js';

export interface TrustRecord {
  sha256: string;
  /** ISO time of `aca trust`. */
  trustedAt: string;
}

export type TrustState = 'trusted' | 'changed' | 'untrusted';

export function trustStoreFile(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'trusted.json');
}

/** One spelling per file: its directory with symlinks resolved (the same file reached by two paths is one entry). */
export function canonicalPath(file: string): string {
  const absolute = resolve(file);
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

/** The store as a null-prototype map; a missing or unreadable store trusts nothing. */
export function readTrustStore(env: NodeJS.ProcessEnv): Record<string, TrustRecord> {
  const store: Record<string, TrustRecord> = Object.create(null) as Record<string, TrustRecord>;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(trustStoreFile(env), 'utf8'));
  } catch {
    return store;
  }
  const files = (parsed as { files?: unknown })?.files;
  if (files === null || typeof files !== 'object') return store;
  for (const [path, record] of Object.entries(files)) {
    const { sha256, trustedAt } = (record ?? {}) as Partial<TrustRecord>;
    if (typeof sha256 === 'string' && /^[0-9a-f]{64}$/.test(sha256)) store[path] = { sha256, trustedAt: String(trustedAt ?? '') };
  }
  return store;
}

/** Replace the store in one rename: a crash leaves the old store or the new one, never half of either. */
function writeTrustStore(env: NodeJS.ProcessEnv, store: Record<string, TrustRecord>): void {
  const dir = ensureStateDir(env);
  const file = join(dir, 'trusted.json');
  const temp = `${file}.${process.pid}.tmp`;
  const sorted = Object.fromEntries(Object.entries(store).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(temp, `${JSON.stringify({ files: sorted }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

export function trustState(env: NodeJS.ProcessEnv, file: string, sha256: string): TrustState {
  const record = readTrustStore(env)[canonicalPath(file)];
  if (!record) return 'untrusted';
  return record.sha256 === sha256 ? 'trusted' : 'changed';
}

export function recordTrust(env: NodeJS.ProcessEnv, file: string, sha256: string, now = new Date()): TrustRecord {
  const store = readTrustStore(env);
  const record = { sha256, trustedAt: now.toISOString() };
  store[canonicalPath(file)] = record;
  writeTrustStore(env, store);
  return record;
}

/** Forget a file; false when it was not trusted. */
export function revokeTrust(env: NodeJS.ProcessEnv, file: string): boolean {
  const store = readTrustStore(env);
  const key = [canonicalPath(file), resolve(file)].find((k) => store[k]);
  if (!key) return false;
  delete store[key];
  writeTrustStore(env, store);
  return true;
}
