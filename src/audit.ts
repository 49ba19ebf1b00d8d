/**
 * The audit trail: one JSON line per session action (create, exec, shell into
 * a running session, start, stop, rm, a session removed by gc), every refusal
 * and every --unsafe override, appended to
 * $XDG_STATE_HOME/aca/audit.jsonl. Values that may be secrets are masked
 * before anything is written.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { ensureStateDir, stateDir } from './state-dir.js';
import type { Relaxation } from './security/relaxations.js';
import { maskValues } from './security/secrets.js';
import { UsageError } from './errors.js';
import { parseDuration } from './parse.js';

export type AuditAction = 'create' | 'exec' | 'shell' | 'start' | 'stop' | 'rm' | 'gc';

export interface AuditEntry {
  time: string;
  user: string;
  uid: number;
  host: string;
  session: string;
  action: AuditAction;
  args: string[];
  outcome: 'ok' | 'refused' | 'failed';
  /** The refusal or failure, one line. */
  error?: string;
  /** What --unsafe allowed that would have been refused. */
  unsafe?: string[];
  /** The relaxations asked for (writable-root, cap-add=X, volume=..., env=NAME, ...). */
  relaxed?: string[];
  /** The same, each with where it came from: flag, user config FILE, trusted project file FILE. */
  relaxations?: Relaxation[];
  /** The session's isolation: container or gvisor. */
  isolation?: string;
}

export function auditFile(env: NodeJS.ProcessEnv): string {
  return join(stateDir(env), 'audit.jsonl');
}

const SECRET_NAME = /(?:KEY|TOKEN|SECRET|PASSW|PASSWD|PWD|CREDENTIAL|AUTH|COOKIE|SESSION)/i;
const VALUE_FLAGS = new Set(['-e', '--env']);

/**
 * Mask what may be a secret: the value of every -e K=V (variables are not
 * for secrets, but people put them there), any K=V argument whose name looks
 * like a secret, and any occurrence of a known secret value.
 */
export function maskArgs(args: string[], secretValues: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    arg = maskValues(arg, secretValues);
    const prev = args[i - 1];
    const inline = /^(--env=|-e)(.+)$/.exec(arg);
    if (prev !== undefined && VALUE_FLAGS.has(prev)) arg = maskAssignment(arg, true);
    else if (inline && inline[1] === '--env=') arg = `--env=${maskAssignment(inline[2]!, true)}`;
    else arg = maskAssignment(arg, false);
    out.push(arg);
  }
  return out;
}

function maskAssignment(arg: string, always: boolean): string {
  const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(arg);
  if (!match || match[2] === '') return arg;
  return always || SECRET_NAME.test(match[1]!) ? `${match[1]}=***` : arg;
}

export interface AuditRecord {
  session: string;
  action: AuditAction;
  args: string[];
  outcome?: AuditEntry['outcome'];
  error?: string;
  unsafe?: string[];
  relaxed?: string[];
  relaxations?: Relaxation[] | undefined;
  isolation?: string | undefined;
  secretValues?: string[];
}

/** Append one entry. Never fails the command: an unwritable trail is reported on stderr. */
export function appendAudit(env: NodeJS.ProcessEnv, record: AuditRecord, warn: (message: string) => void = () => {}): void {
  const user = userInfo();
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    user: user.username,
    uid: user.uid,
    host: hostname(),
    session: record.session,
    action: record.action,
    args: maskArgs(record.args, record.secretValues),
    outcome: record.outcome ?? 'ok',
    ...(record.error ? { error: maskArgs([record.error], record.secretValues)[0]! } : {}),
    ...(record.unsafe?.length ? { unsafe: record.unsafe } : {}),
    ...(record.relaxed?.length ? { relaxed: record.relaxed } : {}),
    ...(record.relaxations?.length ? { relaxations: record.relaxations.map((r) => ({ what: maskArgs([r.what], record.secretValues)[0]!, from: r.from })) } : {}),
    ...(record.isolation ? { isolation: record.isolation } : {}),
  };
  try {
    const dir = ensureStateDir(env);
    appendFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  } catch (error) {
    warn(`could not write the audit trail ${auditFile(env)}: ${(error as Error).message}`);
  }
}

export interface AuditQuery {
  session?: string | undefined;
  since?: Date | undefined;
}

/** Read the trail, oldest first; lines that are not entries are skipped. */
export function readAudit(env: NodeJS.ProcessEnv, query: AuditQuery = {}): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(auditFile(env), 'utf8');
  } catch {
    return [];
  }
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as AuditEntry;
      if (query.session && entry.session !== query.session) continue;
      if (query.since && Date.parse(entry.time) < query.since.getTime()) continue;
      entries.push(entry);
    } catch {
      /* a torn line from a crash: skip it */
    }
  }
  return entries;
}

/**
 * `aca audit --since`: a duration ago (30m, 2h, 7d, 1h30m) or an ISO date, with or without a time and zone
 * (2025-01-31, 2025-01-31T12:00, 2025-01-31T12:00:00Z). Anything else is a usage error naming both forms.
 */
export function parseSince(value: string, now: Date): Date {
  const text = value.trim();
  const expected = `--since: expected a duration ago (30m, 2h, 7d) or an ISO date (2025-01-31, 2025-01-31T12:00Z), got "${value}"`;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) throw new UsageError(expected);
    return date;
  }
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/i.test(text)) throw new UsageError(expected);
  return new Date(now.getTime() - parseDuration(text.toLowerCase(), '--since'));
}
