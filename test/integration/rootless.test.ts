/**
 * Rootless Podman, as its user runs it: aca started by that user finds the
 * user's own Podman socket ($XDG_RUNTIME_DIR/podman/podman.sock; Docker's
 * socket is not theirs), and the workspace files stay the user's (keep-id).
 * The user, its subuid/subgid ranges and its Podman service are set up by
 * .ci/run (start_rootless_podman), which names the user in ACA_TEST_ROOTLESS_USER.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ACA_BIN } from '../helpers/aca.js';
import { TEST_IMAGE, TEST_LABEL } from '../helpers/engine.js';
import { engineKind, hasEngine } from './setup.js';

const user = process.env.ACA_TEST_ROOTLESS_USER;
const podmanPass = hasEngine && engineKind === 'podman';
if (podmanPass && !user) {
  if (process.env.CI === 'true') throw new Error('CI=true but ACA_TEST_ROOTLESS_USER is not set: .ci/run sets up rootless Podman for this test');
  process.stderr.write('\n*** rootless.test.ts SKIPPED: no rootless Podman user (set ACA_TEST_ROOTLESS_USER; .ci/run shows how to set one up)\n\n');
}
if (hasEngine && !podmanPass) process.stderr.write(`\n*** rootless.test.ts SKIPPED in the ${engineKind} pass: rootless Podman is tested in the Podman pass.\n\n`);

const active = podmanPass && Boolean(user);
/** The user's ids; only looked up when the tests run (a skipped describe body still runs). */
const idOf = (flag: '-u' | '-g') => (active ? Number(execFileSync('id', [flag, user!], { encoding: 'utf8' }).trim()) : -1);

describe.skipIf(!active)('rootless Podman', () => {
  const uid = idOf('-u');
  const gid = idOf('-g');
  const runtimeDir = `/run/user/${uid}`;
  const socket = `unix://${runtimeDir}/podman/podman.sock`;
  const runId = `rl${randomBytes(3).toString('hex')}`;
  const workspace = active ? mkdtempSync('/tmp/aca-rootless-') : '';
  if (active) chownSync(workspace, uid, gid);

  /** aca as the rootless user, in its own environment (no root variables leak in). */
  async function acaAs(args: string[], options: { input?: string } = {}) {
    const at = args.indexOf('run');
    const labelled = at === -1 ? args : [...args.slice(0, at + 1), '--label', `${TEST_LABEL}=${runId}`, ...args.slice(at + 1)];
    const result = await execa('runuser', ['-u', user!, '--', 'env', '-i', `HOME=/home/${user}`, `XDG_RUNTIME_DIR=${runtimeDir}`, `PATH=${process.env.PATH}`, 'NO_COLOR=1', ACA_BIN, ...labelled], {
      cwd: workspace, reject: false, stripFinalNewline: false, timeout: 120_000, ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    });
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  afterAll(async () => {
    // Everything this file labelled, on the user's own engine (the suite's teardown sees only the rootful one).
    const { connect } = await import('../../dist/src/engine/connect.js');
    const engine = await connect({ host: socket, engine: 'podman', env: {} });
    for (const c of await engine.listContainers([`${TEST_LABEL}=${runId}`], true)) await engine.removeContainer(c.Id, { force: true });
    engine.http.close();
    rmSync(workspace, { recursive: true, force: true });
  }, 120_000);

  it('finds the user\'s own Podman and says it is rootless', async () => {
    const result = await acaAs(['doctor', '--json']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const checks = (JSON.parse(result.stdout) as { checks: Array<{ name: string; data?: Record<string, unknown> }> }).checks;
    const used = checks.find((c) => c.data?.used === true)!;
    expect(used.data).toMatchObject({ url: socket, kind: 'podman', source: 'rootless Podman socket' });
    expect(checks.find((c) => c.name === 'engine version')!.data).toMatchObject({ kind: 'podman', rootless: true });
  });

  it('runs as the workspace owner: files written in the workspace stay the user\'s', async () => {
    writeFileSync(join(workspace, 'in.txt'), 'from the host\n');
    chownSync(join(workspace, 'in.txt'), uid, gid);
    const result = await acaAs(['run', '--image', TEST_IMAGE, '--', 'sh', '-c', 'id -u; cat /workspace/in.txt; echo made > /workspace/out.txt; exit 5']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stdout).toBe(`${uid}\nfrom the host\n`);
    expect(readFileSync(join(workspace, 'out.txt'), 'utf8')).toBe('made\n');
    expect(statSync(join(workspace, 'out.txt'))).toMatchObject({ uid, gid });
  });

  it('runs detached, execs with stdin and lists the session, through --host', async () => {
    const name = `rl-${runId}`;
    const started = await acaAs(['--host', socket, 'run', '-d', '--name', name, '--image', TEST_IMAGE]);
    expect(started.exitCode, started.stderr).toBe(0);
    const exec = await acaAs(['--host', socket, 'exec', '-i', name, '--', 'sh', '-c', 'cat; exit 6'], { input: 'piped in\n' });
    expect(exec).toMatchObject({ exitCode: 6, stdout: 'piped in\n' });
    const ps = await acaAs(['--host', socket, 'ps', '--json']);
    expect((JSON.parse(ps.stdout) as Array<{ name: string; state: string }>).find((r) => r.name === name)).toMatchObject({ state: 'running' });
    expect((await acaAs(['--host', socket, 'rm', '-f', name])).exitCode).toBe(0);
  });
});
