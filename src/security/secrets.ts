/**
 * Secrets: where a value comes from (a host variable or file), and how it
 * reaches the session without ever being part of the container's
 * configuration. The value travels only over the engine socket, on an exec's
 * stdin, into a file on a private tmpfs (see deliverSecrets in sessions/secure-run.ts). Pure apart
 * from reading the value.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SECRETS_DIR } from './profile.js';

export interface SecretSpec {
  name: string;
  source: { kind: 'env'; variable: string } | { kind: 'file'; path: string };
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** "NAME" (the host variable NAME), "NAME=env:VAR" or "NAME=file:PATH" (relative to `base`). */
export function parseSecret(entry: string, base: string, flag = '--secret'): SecretSpec {
  const eq = entry.indexOf('=');
  const name = eq === -1 ? entry : entry.slice(0, eq);
  if (!NAME.test(name)) throw new UsageError(`${flag}: invalid secret name "${name}" (letters, digits and _)`);
  if (eq === -1) return { name, source: { kind: 'env', variable: name } };
  const ref = entry.slice(eq + 1);
  if (ref.startsWith('env:') && NAME.test(ref.slice(4))) return { name, source: { kind: 'env', variable: ref.slice(4) } };
  if (ref.startsWith('file:') && ref.length > 5) return { name, source: { kind: 'file', path: resolve(base, ref.slice(5)) } };
  throw new UsageError(`${flag} ${name}: expected NAME, NAME=env:VARIABLE or NAME=file:PATH (a secret's value never goes on the command line)`);
}

/** The reference, never the value: safe for labels, audit lines and messages. */
export function describeSecret(spec: SecretSpec): string {
  return spec.source.kind === 'env' ? `${spec.name}=env:${spec.source.variable}` : `${spec.name}=file:${spec.source.path}`;
}

/** Read a secret's value from the host. Errors name the secret and its source, never a value. */
export function readSecret(spec: SecretSpec, env: NodeJS.ProcessEnv, flag = '--secret'): Buffer {
  if (spec.source.kind === 'env') {
    const value = env[spec.source.variable];
    if (value === undefined) throw new UsageError(`${flag} ${spec.name}: the host variable ${spec.source.variable} is not set`);
    return Buffer.from(value, 'utf8');
  }
  try {
    return readFileSync(spec.source.path);
  } catch {
    throw new UsageError(`${flag} ${spec.name}: cannot read ${spec.source.path}`);
  }
}

export function secretPath(name: string): string {
  return `${SECRETS_DIR}/${name}`;
}

/** A fifo the launcher waits on until every secret is in place. */
export const SECRETS_GATE = `${SECRETS_DIR}/.aca-ready`;

/** Exported from the secret files into the environment of one process tree, then exec. */
function exportLines(secretEnv: string[]): string {
  return secretEnv.map((name) => `${name}=$(cat ${secretPath(name)}) && export ${name} || exit 125; `).join('');
}

/**
 * The launcher put in front of a session's command when it has secrets: it
 * waits until aca has delivered them, exports the --secret-env ones, then
 * execs the command, which keeps its pid, exit code and signals.
 */
export function launcherScript(secretEnv: string[]): string {
  return (
    `f=${SECRETS_GATE}; [ -p "$f" ] || mkfifo "$f" 2>/dev/null || [ -p "$f" ] || { echo "aca: cannot wait for secrets: mkfifo failed" >&2; exit 125; }; ` +
    `read -r _ < "$f"; rm -f "$f"; ${exportLines(secretEnv)}exec "$@"`
  );
}

/** For `aca exec`: the same exports without the wait. */
export function execLauncher(secretEnv: string[], command: string[]): string[] {
  if (secretEnv.length === 0) return command;
  return ['/bin/sh', '-c', `${exportLines(secretEnv)}exec "$@"`, 'aca-launch', ...command];
}

/** The exec that opens the gate once the files are written (creating the fifo if the launcher has not yet). */
export const OPEN_GATE = ['/bin/sh', '-c', `f=${SECRETS_GATE}; [ -p "$f" ] || mkfifo "$f" 2>/dev/null || [ -p "$f" ] || exit 1; echo go > "$f"`];

/** The exec that writes one secret from stdin: mode 0400, owned by the session user. */
export function writeSecretCommand(name: string): string[] {
  return ['/bin/sh', '-c', `umask 277; cat > ${secretPath(name)}.tmp && mv -f ${secretPath(name)}.tmp ${secretPath(name)}`];
}

/** An image committed from a session (a checkpoint) carries the launcher already: one gate, not two. */
function withoutLauncher(entrypoint: string[]): string[] {
  const launched = entrypoint[0] === '/bin/sh' && entrypoint[1] === '-c' && entrypoint[2]?.startsWith(`f=${SECRETS_GATE};`) && entrypoint[3] === 'aca-launch';
  return launched ? entrypoint.slice(4) : entrypoint;
}

/**
 * Wrap a create body's command with the launcher. Setting Entrypoint makes
 * the engine ignore the image's Cmd, so both image defaults are carried over.
 */
export function withLauncher<B extends { Entrypoint?: string[]; Cmd?: string[] }>(
  body: B,
  image: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null },
  secretEnv: string[],
): B {
  const asList = (v: string[] | string | null | undefined) => (v == null ? [] : typeof v === 'string' ? ['/bin/sh', '-c', v] : v);
  const entrypoint = withoutLauncher(body.Entrypoint ?? asList(image.Entrypoint));
  const cmd = body.Cmd && body.Cmd.length > 0 ? body.Cmd : asList(image.Cmd);
  return { ...body, Entrypoint: ['/bin/sh', '-c', launcherScript(secretEnv), 'aca-launch', ...entrypoint], Cmd: cmd };
}

/** Values that must never appear in output or audit lines. */
export function maskValues(text: string, values: string[]): string {
  let masked = text;
  for (const value of values) if (value.length >= 4) masked = masked.split(value).join('***');
  return masked;
}
