import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { acaBytes } from '../helpers/aca.js';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('aca exec', () => {
  const { aca, runId, workspace } = engineSuite();
  const session = `exec-${runId}`;
  beforeAll(async () => {
    const started = await aca(['run', '-d', '--name', session, '--image', TEST_IMAGE]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).toBe(`${session}\n`);
  });

  it('propagates exit codes 0 and 42, and normalises 126 / 127', async () => {
    expect((await aca(['exec', session, '--', 'true'])).exitCode).toBe(0);
    expect((await aca(['exec', session, '--', 'sh', '-c', 'exit 42'])).exitCode).toBe(42);
    const missing = await aca(['exec', session, '--', 'no-such-command']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no-such-command');
    const notExecutable = await aca(['exec', session, '/etc/passwd']);
    expect(notExecutable.exitCode).toBe(126);
    expect(notExecutable.stdout).toBe('');
  });

  it('keeps stdout apart from stderr', async () => {
    const result = await aca(['exec', session, '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
  });

  it('round-trips megabytes of binary stdin through cat', async () => {
    const blob = randomBytes(4 * 1024 * 1024 + 3);
    const result = await acaBytes(['exec', '-i', session, '--', 'cat'], { cwd: workspace, input: blob });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.equals(blob)).toBe(true);
  });

  it('has no TTY without -t, and refuses -t without a terminal', async () => {
    expect((await aca(['exec', session, '--', 'sh', '-c', '[ -t 1 ] && echo tty || echo notty'])).stdout).toBe('notty\n');
    const refused = await aca(['exec', '-t', session, '--', 'true']);
    expect(refused.exitCode).toBe(2);
  });

  it('records an exec, and a shell opened in the session, in the audit trail under their own names', async () => {
    const shell = await aca(['shell', session], { input: 'echo in-shell\n' });
    expect(shell.exitCode, shell.stderr).toBe(0);
    expect(shell.stdout).toContain('in-shell');
    const audit = await aca(['audit', '--session', session, '--json']);
    const actions = audit.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toContain('exec');
    expect(actions[actions.length - 1]).toBe('shell');
  });

  it('honours -e, -w and -u', async () => {
    const result = await aca(['exec', '-e', 'X=42', '-w', '/tmp', '-u', '4321', session, '--', 'sh', '-c', 'echo $X; pwd; id -u']);
    expect(result.stdout).toBe('42\n/tmp\n4321\n');
  });

  it('finds a session by unambiguous id prefix', async () => {
    const ps = JSON.parse((await aca(['ps', '--json'])).stdout) as Array<{ name: string; id: string }>;
    const id = ps.find((s) => s.name === session)!.id;
    expect((await aca(['exec', id.slice(0, 8), '--', 'true'])).exitCode).toBe(0);
  });

  it('fails with 125 for an unknown session or a stopped one', async () => {
    const unknown = await aca(['exec', 'no-such-session-xyz', '--', 'true']);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toMatch(/no such session: no-such-session-xyz/);
  });
});
