/** Run the real aca executable, as a user or a CI step would. */
import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chownSync, lchownSync, lstatSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suiteId, TEST_LABEL } from './engine.js';

export const ACA_BIN = fileURLToPath(new URL('../../bin/aca', import.meta.url));

export interface AcaResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface AcaOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  inputFile?: string;
  /** An open file descriptor that becomes aca's fd 0 as it is (a real file on stdin, from its current offset). */
  stdinFd?: number;
  timeout?: number;
}

/** A unique label value per test file, so teardown removes only its own sessions (prefixed with the suite's id). */
export function testRunId(): string {
  return `${suiteId()}-${randomBytes(3).toString('hex')}`;
}

/** Insert the test label right after a `run` subcommand so every session is found by teardown. */
export function labelled(args: string[], runId: string): string[] {
  const at = args.indexOf('run');
  if (at === -1) return args;
  return [...args.slice(0, at + 1), '--label', `${TEST_LABEL}=${runId}`, ...args.slice(at + 1)];
}

/** The owner of test workspaces that are bind-mounted: tests run as root, and aca copies a root-owned workspace in. */
export const WORKSPACE_OWNER = { uid: 1000, gid: 1000 };

/** A temporary directory owned by WORKSPACE_OWNER, so a session bind-mounts it as that user. */
export function bindableDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) chownSync(dir, WORKSPACE_OWNER.uid, WORKSPACE_OWNER.gid);
  return dir;
}

/** Hand a tree prepared by the (root) test to WORKSPACE_OWNER, as if that user had made it. */
export function chownTree(path: string): void {
  if (process.getuid?.() !== 0) return;
  lchownSync(path, WORKSPACE_OWNER.uid, WORKSPACE_OWNER.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry));
}

let scratch: string | undefined;
/** A throwaway working directory for commands that name none. */
function scratchDir(): string {
  scratch ??= bindableDir('aca-cwd-');
  return scratch;
}

export function spawnAca(args: string[], options: AcaOptions = {}): ResultPromise<{ reject: false; encoding: 'buffer' }> {
  return execa(ACA_BIN, args, {
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    // Never the repository: a session mounts its cwd as the workspace.
    cwd: options.cwd ?? scratchDir(),
    // The suite runs on the engine's default runtime unless a pass asks for another (.ci/run's gVisor pass).
    env: { NO_COLOR: '1', ACA_ISOLATION: process.env.ACA_ISOLATION ?? 'container', ...options.env },
    ...(options.input !== undefined ? { input: options.input }
      : options.inputFile ? { inputFile: options.inputFile }
      : options.stdinFd !== undefined ? { stdin: options.stdinFd } : { stdin: 'ignore' }),
    timeout: options.timeout ?? 60_000,
    // A test that signals aca waits for it to finish as a user would: execa's default SIGKILL 5 s after a kill()
    // cut off an exec still ending on a loaded CI machine (here ~1 s idle and ~3.5 s under load: the command's own
    // `sleep 1`, the engine ending the exec, and aca's inspect calls).
    forceKillAfterDelay: 30_000,
  } as never) as never;
}

export async function aca(args: string[], options: AcaOptions = {}): Promise<AcaResult> {
  const result = await spawnAca(args, options);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: Buffer.from(result.stdout as Uint8Array).toString('utf8'),
    stderr: Buffer.from(result.stderr as Uint8Array).toString('utf8'),
  };
}

/** Run aca and return stdout as raw bytes (for binary round trips). */
export async function acaBytes(args: string[], options: AcaOptions = {}): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
  const result = await spawnAca(args, options);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: Buffer.from(result.stdout as Uint8Array),
    stderr: Buffer.from(result.stderr as Uint8Array).toString('utf8'),
  };
}
