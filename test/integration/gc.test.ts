import { describe, expect, it } from 'vitest';
import { labelled, spawnAca } from '../helpers/aca.js';
import { TEST_IMAGE, sessionExists, testEngine } from '../helpers/engine.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

/**
 * gc runs on the whole engine, so this file runs after every other test file
 * (see vitest.config.ts), and scopes most runs to its own sessions (--label).
 */
describe.skipIf(!hasEngine)('aca gc', () => {
  const { aca, runId, workspace } = engineSuite();
  const scope = ['--label', `acatest=${runId}`];
  it('never touches containers or volumes aca did not create, whatever their names, running or stopped', async () => {
    const engine = await testEngine();
    const body = (cmd: string[]) => ({
      Image: TEST_IMAGE, Cmd: cmd, Env: [], Labels: { acatest: runId, 'aca.session': 'lookalike' }, User: '', WorkingDir: '', Tty: false,
      OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, HostConfig: {} as never,
    });
    const running = await engine.createContainer(`aca-foreign-running-${runId}`, body(['sleep', '300']));
    await engine.startContainer(running);
    const stopped = await engine.createContainer(`aca-foreign-stopped-${runId}`, body(['true']));
    await engine.volumes.create(`aca-foreign-${runId}-home`, { 'aca.session': 'lookalike', acatest: runId });
    try {
      // Unscoped, only planned: a real unscoped gc would remove the stopped sessions of whoever else uses this engine.
      for (const args of [['gc', '--dry-run', '--include-running', '--caches', '--json'], ['gc', '--dry-run', '--older-than', '0s']]) {
        const result = await aca(args);
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout).not.toContain('foreign');
      }
      const scoped = await aca(['gc', ...scope, '--include-running']);
      expect(scoped.exitCode).toBe(0);
      expect((await engine.inspectContainer(running)).State.Running).toBe(true);
      expect((await engine.inspectContainer(stopped)).Id).toBe(stopped);
      expect(await engine.volumes.inspect(`aca-foreign-${runId}-home`)).toBeDefined();
    } finally {
      await engine.removeContainer(running, { force: true });
      await engine.removeContainer(stopped, { force: true });
      await engine.volumes.remove(`aca-foreign-${runId}-home`);
    }
  });

  it('plans with --dry-run and changes nothing; then removes stopped sessions and their volumes', async () => {
    const name = `stopped-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
    expectOk(await aca(['stop', '-t', '1', name]));
    const plan = await aca(['gc', ...scope, '--dry-run', '--json']);
    const report = JSON.parse(plan.stdout) as { dryRun: boolean; actions: Array<{ kind: string; name: string; removed: boolean }> };
    expect(report.dryRun).toBe(true);
    // On Podman a session also has its own network (Podman ignores icc on a shared one).
    const own = engineKind === 'podman' ? [`network:aca-${name}`] : [];
    expect(report.actions.map((a) => `${a.kind}:${a.name}`).sort()).toEqual([...own, `session:${name}`, `volume:aca-${name}-home`]);
    expect(await sessionExists(name)).toBe(true);

    const kept = await aca(['gc', ...scope, '--older-than', '1h']);
    expect(kept.stdout).toBe('');
    expect(await sessionExists(name)).toBe(true);

    const gcEntries = async () => (await aca(['audit', '--session', name, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; error?: string }).filter((e) => e.action === 'gc');
    expect(await gcEntries()).toEqual([]);

    const done = await aca(['gc', ...scope]);
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toContain(`removed session ${name} (stopped (exited))`);
    expect(await gcEntries()).toMatchObject([{ action: 'gc', outcome: 'ok', error: 'stopped (exited)' }]);
    expect(done.stdout).toContain(`removed volume aca-${name}-home`);
    expect(done.stderr).toMatch(new RegExp(`aca gc: removed ${2 + own.length} objects, reclaimed`));
    expect(await sessionExists(name)).toBe(false);
  });

  it('keeps running sessions unless --include-running, and volumes with --keep-volumes', async () => {
    const name = `running-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
    expect((await aca(['gc', ...scope])).stdout).toBe('');
    const removed = await aca(['gc', ...scope, '--include-running', '--keep-volumes']);
    expect(removed.stdout).toBe(`removed session ${name} (running (--include-running))\n${
      engineKind === 'podman' ? `removed network aca-${name} (session ${name} is removed too)\n` : ''}`);
    const left = await (await testEngine()).volumes.list([`aca.session=${name}`]);
    expect(left.map((v) => v.Name)).toEqual([`aca-${name}-home`]);
    await (await testEngine()).volumes.remove(`aca-${name}-home`);
  });

  it('collects a SIGKILLed foreground run as an orphan, even while it runs, and ps marks it', async () => {
    const name = `orphan-${runId}`;
    const child = spawnAca(labelled(['run', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo up; sleep 300'], runId), { cwd: workspace });
    await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('up')) resolve(); }));
    child.kill('SIGKILL');
    await child;
    const ps = JSON.parse((await aca(['ps', '--json'])).stdout) as Array<{ name: string; state: string; orphaned: boolean }>;
    expect(ps.find((s) => s.name === name)).toMatchObject({ state: 'running', orphaned: true });
    const table = await aca(['ps']);
    expect(table.stdout).toMatch(new RegExp(`${name}.*running \\(orphaned\\)`));
    const gc = await aca(['gc', ...scope]);
    expect(gc.stdout).toContain(`removed session ${name} (orphaned: its aca process is gone)`);
    expect(await sessionExists(name)).toBe(false);
  });

  it('reaps a detached session once its --ttl has passed', async () => {
    const name = `ttl-${runId}`;
    // Long enough that the first gc below comes before expiry on a loaded engine (Podman's run -d can take seconds).
    expectOk(await aca(['run', '-d', '--ttl', '15s', '--name', name, '--image', TEST_IMAGE]));
    expect((await aca(['gc', ...scope])).stdout).toBe('');
    // Wait for expiry by asking gc's own plan, until a deadline (a count of tries ran out before 15 s once gc got fast).
    for (const deadline = Date.now() + 40_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const plan = await aca(['gc', ...scope, '--dry-run']);
      if (plan.stdout.includes(`would remove session ${name} (expired`)) break;
    }
    expect((await aca(['gc', ...scope])).stdout).toContain(`removed session ${name} (expired at`);
    expect(await sessionExists(name)).toBe(false);
    expect((await aca(['run', '--ttl', '1m', '--image', TEST_IMAGE, 'true'])).exitCode).toBe(2);
  });

  it('runs concurrently with itself without failing', async () => {
    const names = [0, 1, 2].map((i) => `conc${i}-${runId}`);
    for (const name of names) {
      await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]);
      await aca(['stop', '-t', '0', name]);
    }
    const results = await Promise.all([aca(['gc', ...scope]), aca(['gc', ...scope]), aca(['gc', ...scope])]);
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    for (const name of names) expect(await sessionExists(name)).toBe(false);
  });

  it('runs only above a disk threshold with --if-disk-above', async () => {
    const skipped = await aca(['gc', '--if-disk-above', '100', '--json']);
    expect(skipped.exitCode).toBe(0);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ skipped: expect.stringContaining('not above 100%'), actions: [] });
    expect((await aca(['gc', '--if-disk-above', '101'])).exitCode).toBe(2);
  });
});
