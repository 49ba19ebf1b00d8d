/**
 * A command that cannot start is reported once, in aca's words, with the
 * shell's exit code, whoever noticed first: the engine (Docker's and Podman's
 * exec), the init as PID 1 (tini under Docker, catatonit under Podman), or the
 * shell of the secret launcher. Never the engine's, init's or shell's own line.
 */
import { describe, expect, it } from 'vitest';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('command not found', () => {
  const { aca, runId } = engineSuite();
  const expectOnly = (result: { exitCode: number; stdout: string; stderr: string }, exitCode: number, line: string) => {
    expect(result, result.stderr).toMatchObject({ exitCode, stdout: '', stderr: `${line}\n` });
  };

  it('aca run: missing 127, not executable 126, one line naming the session', { timeout: 180_000 }, async () => {
    for (const [command, code, words] of [['nosuchcmd', 127, 'command not found'], ['/etc/passwd', 126, 'not executable (permission denied)']] as const) {
      const name = `nf-run-${code}-${runId}`;
      expectOnly(await aca(['run', '--name', name, '--no-workspace', '--image', TEST_IMAGE, '--', command]), code, `aca: ${command}: ${words} in session ${name}`);
    }
  });

  it('aca exec: the same, straight from the engine and through the secret launcher', { timeout: 240_000 }, async () => {
    const plain = `nf-exec-${runId}`;
    const withSecret = `nf-secret-${runId}`;
    expect((await aca(['run', '-d', '--name', plain, '--no-workspace', '--image', TEST_IMAGE])).exitCode).toBe(0);
    const secret = await aca(['run', '-d', '--name', withSecret, '--no-workspace', '--secret-env', 'NF_TOKEN', '--image', TEST_IMAGE], { env: { NF_TOKEN: 'x' } });
    expect(secret.exitCode, secret.stderr).toBe(0);
    for (const session of [plain, withSecret]) {
      expectOnly(await aca(['exec', session, '--', 'nosuchcmd']), 127, `aca: nosuchcmd: command not found in session ${session}`);
      expectOnly(await aca(['exec', session, '--', '/etc/passwd']), 126, `aca: /etc/passwd: not executable (permission denied) in session ${session}`);
    }
    // A command that runs and fails keeps its own words and code.
    expect(await aca(['exec', plain, '--', 'sh', '-c', 'echo "sh: x: not found" >&2; exit 127'])).toMatchObject({ exitCode: 127, stderr: 'sh: x: not found\n' });
  });

  it('a command whose first output looks like a launcher line, but is not one, is passed through', async () => {
    const result = await aca(['run', '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'printf "Error: "; sleep 1; echo "something else" >&2; echo out']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Error: out\n', stderr: 'something else\n' });
  });
});
