/**
 * Which branch sessions have been brought home. A session's branch is un-exported work until `aca merge` fetched its
 * tip: gc should keep a session labelled aca.branch unless mergedTip(env, session) equals the tip it would remove.
 * Kept on the host (the session cannot write it) in $XDG_STATE_HOME/aca/merged/SESSION.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir, stateDir } from '../state-dir.js';

export interface MergedRecord {
  session: string;
  branch: string;
  repo: string;
  commit: string;
  time?: string;
}

export function recordMerged(env: NodeJS.ProcessEnv, record: MergedRecord): void {
  const dir = join(ensureStateDir(env), 'merged');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${record.session}.json`), `${JSON.stringify({ ...record, time: new Date().toISOString() })}\n`, { mode: 0o600 });
}

/** The last merge of a session's branch, if any. */
export function lastMerged(env: NodeJS.ProcessEnv, session: string): MergedRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir(env), 'merged', `${session}.json`), 'utf8')) as MergedRecord;
  } catch {
    return undefined;
  }
}
