/**
 * The configuration's `engine` and `host` keys choose the engine: below the flags (--engine, --host, --context),
 * above the environment (ACA_ENGINE, DOCKER_HOST), and `aca config` says which one decided. A project file may set
 * them only once trusted: a session could otherwise point the user's next aca command at an engine it runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSuite, expectOk, hasEngine } from './setup.js';
import { TEST_IMAGE, testEngine } from '../helpers/engine.js';

const { aca, workspace } = engineSuite();
const home = mkdtempSync(join(tmpdir(), 'aca-engine-config-'));
const env = { XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };
const userFile = join(env.XDG_CONFIG_HOME, 'aca', 'config.json');
mkdirSync(join(env.XDG_CONFIG_HOME, 'aca'), { recursive: true });
afterAll(() => rmSync(home, { recursive: true, force: true }));

const NOWHERE = 'unix:///nonexistent/aca-test-engine.sock';

function userConfig(values: Record<string, unknown>): void {
  writeFileSync(userFile, JSON.stringify(values));
}

async function shown(key: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = await aca([...args, 'config', '--json'], { env: { ...env, ...options.env }, ...(options.cwd ? { cwd: options.cwd } : {}) });
  expectOk(result);
  return (JSON.parse(result.stdout) as { entries: Array<{ key: string; value: unknown; source: string }> }).entries.find((e) => e.key === key);
}

describe.skipIf(!hasEngine)('the engine and host configuration keys', () => {
  it('host in the user file is used, above DOCKER_HOST and below --host', async () => {
    const { url } = (await testEngine()).info;
    userConfig({ host: NOWHERE });
    const refused = await aca(['ps'], { env });
    expect(refused.exitCode, refused.stderr).toBe(125);
    expect(refused.stderr).toContain(NOWHERE);
    expect(refused.stderr).toContain(userFile);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await shown('host', [])).toEqual({ key: 'host', value: NOWHERE, source: userFile });

    // The flag outranks the file.
    expectOk(await aca(['--host', url, 'ps'], { env }));
    expect(await shown('host', ['--host', url])).toEqual({ key: 'host', value: url, source: '--host' });

    // The file outranks the environment.
    userConfig({ host: url });
    expectOk(await aca(['ps'], { env: { ...env, DOCKER_HOST: NOWHERE } }));
    expect(await shown('host', [], { env: { DOCKER_HOST: NOWHERE } })).toEqual({ key: 'host', value: url, source: userFile });
  });

  it('engine in the user file restricts the choice, above ACA_ENGINE and below --engine', async () => {
    const { url, kind } = (await testEngine()).info;
    const other = kind === 'docker' ? 'podman' : 'docker';
    userConfig({ host: url, engine: kind });
    // ACA_ENGINE names the other engine; the file wins, so the engine at url answers as the one wanted.
    expectOk(await aca(['ps'], { env: { ...env, ACA_ENGINE: other } }));
    expect(await shown('engine', [], { env: { ACA_ENGINE: other } })).toEqual({ key: 'engine', value: kind, source: userFile });

    userConfig({ host: url, engine: other });
    const wrong = await aca(['ps'], { env });
    expect(wrong.exitCode, wrong.stderr).toBe(125);
    expect(wrong.stderr).toContain(`answers as ${kind}, not ${other}`);
    expectOk(await aca(['--engine', kind, 'ps'], { env }));
    expect(await shown('engine', ['--engine', kind])).toEqual({ key: 'engine', value: kind, source: '--engine' });
  });

  it('a project file may name an engine only once trusted', async () => {
    rmSync(userFile, { force: true });
    const dir = mkdtempSync(join(home, 'ws-'));
    const project = join(dir, '.acarc.json');
    writeFileSync(project, JSON.stringify({ host: NOWHERE }));
    const refused = await aca(['ps'], { cwd: dir, env });
    expect(refused.exitCode, refused.stderr).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`${project}: refused: key "host"`);
    expect(refused.stderr).toContain('aca trust');

    expectOk(await aca(['trust', project], { cwd: dir, env }));
    const trusted = await aca(['ps'], { cwd: dir, env });
    expect(trusted.exitCode, trusted.stderr).toBe(125);
    expect(trusted.stderr).toContain(NOWHERE);
    expect(trusted.stderr).toContain(project);
  });

  it('a session takes its engine from the configuration of its --workspace, not of the directory aca runs in', async () => {
    rmSync(userFile, { force: true });
    const dir = mkdtempSync(join(home, 'ws-'));
    const project = join(dir, '.acarc.json');
    writeFileSync(project, JSON.stringify({ host: NOWHERE }));
    expectOk(await aca(['trust', project], { cwd: dir, env }));

    // From a directory without configuration, --workspace DIR uses DIR's engine.
    const there = await aca(['run', '--workspace', dir, '--image', TEST_IMAGE, '--', 'true'], { env });
    expect(there.exitCode, there.stderr).toBe(125);
    expect(there.stderr).toContain(NOWHERE);
    expect(there.stderr).toContain(project);

    // From DIR, --workspace elsewhere does not: the session runs on the test's engine.
    expectOk(await aca(['run', '--workspace', workspace, '--image', TEST_IMAGE, '--', 'true'], { cwd: dir, env }));
  });

  it('an engine named by a file a session wrote into its workspace is refused, also through --workspace', async () => {
    rmSync(userFile, { force: true });
    const planted = join(workspace, '.acarc.json');
    try {
      // The session writes the file; then the user starts the next session on that workspace from elsewhere.
      expectOk(await aca(['run', '--workspace', workspace, '--image', TEST_IMAGE, '--', 'sh', '-c', `printf '{"host":"${NOWHERE}"}' > /workspace/.acarc.json`], { env }));
      expect(JSON.parse(readFileSync(planted, 'utf8'))).toEqual({ host: NOWHERE });
      const next = await aca(['run', '--workspace', workspace, '--image', TEST_IMAGE, '--', 'true'], { cwd: home, env });
      expect(next.exitCode, next.stderr).toBe(2);
      expect(next.stderr.trim().split('\n')).toHaveLength(1);
      expect(next.stderr).toContain(`${planted}: refused: key "host"`);
      expect(next.stderr).not.toContain(NOWHERE);
    } finally {
      rmSync(planted, { force: true });
    }
  });
});
