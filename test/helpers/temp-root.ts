/**
 * One temporary directory for the whole test run: TMPDIR, XDG_STATE_HOME and
 * XDG_CONFIG_HOME point into it before the workers (and every aca they start)
 * are spawned, so whatever a test or aca puts there is removed when the run
 * ends, even when a test failed before its own clean-up.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): (() => void) | undefined {
  // Each project lists this set-up; the first one makes the directory and removes it at the very end.
  if (process.env.ACA_TEST_TMP) return undefined;
  const root = mkdtempSync(join(tmpdir(), 'aca-tests-'));
  // Traversable by others: a rootless engine's user and a session's non-root user reach workspaces made inside.
  chmodSync(root, 0o755);
  process.env.ACA_TEST_TMP = root;
  process.env.TMPDIR = root;
  // aca's state (audit trail, disk-guard pid files, compile cache) and configuration for the run alone: the
  // developer's own stay untouched, and their config (an engine, a base) does not change what the tests see.
  mkdirSync(join(root, 'state'), { mode: 0o700 });
  mkdirSync(join(root, 'config'), { mode: 0o700 });
  process.env.XDG_STATE_HOME = join(root, 'state');
  process.env.XDG_CONFIG_HOME = join(root, 'config');
  return () => {
    // A test engine that did not stop cleanly may leave mounts here: never recurse into a mounted filesystem.
    try { execFileSync('sh', ['-c', `grep -o ' ${root}/[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
    rmSync(root, { recursive: true, force: true });
  };
}
