import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE, inspectSession, testEngine } from '../helpers/engine.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

/**
 * devcontainer.json as input, on the real engine: what the file asks for reaches the session; what would reach the
 * host or widen the sandbox is refused before anything is made, until the user trusts the file's exact contents.
 */
describe.skipIf(!hasEngine)('devcontainer.json', () => {
  const { aca, runId } = engineSuite();
  const state = mkdtempSync(join(tmpdir(), 'aca-dc-state-'));
  const dirs: string[] = [state];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  // Trust records go to a private state directory, so the user's own are never touched.
  const env = { XDG_STATE_HOME: state, XDG_CONFIG_HOME: state };

  /** A workspace owned by 1000:1000 (sessions run as the workspace owner), with these files. */
  const project = (files: Record<string, string | object>) => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-dc-'));
    dirs.push(dir);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    }
    chownSync(dir, 1000, 1000);
    return dir;
  };
  const created = async () => (await (await testEngine()).listContainers([`acatest=${runId}`], true)).length;

  it('gives the session the image, environment, user, working directory, ports and limits the file asks for', async () => {
    const dir = project({
      '.devcontainer/devcontainer.json': `// comments and trailing commas, as the specification allows
        { "image": "${TEST_IMAGE}", "containerEnv": { "GREETING": "hello \${localWorkspaceFolderBasename}", },
          "remoteEnv": { "REMOTE": "\${containerEnv:GREETING}!" }, "containerUser": "1000:1000", "workspaceFolder": "/workspace/sub",
          "forwardPorts": [18080], "hostRequirements": { "cpus": 1, "memory": "256mb" }, "runArgs": ["--pids-limit", "200", "--label", "dc=yes"] }`,
      'sub/file': 'x',
    });
    const name = `dc-env-${runId}`;
    const result = await aca(['run', '-d', '--name', name], { cwd: dir, env });
    expectOk(result);
    const info = await inspectSession(name);
    expect(info.Config.Image).toBe(TEST_IMAGE);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.WorkingDir).toBe('/workspace/sub');
    expect(info.Config.Labels?.dc).toBe('yes');
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(1e9);
    expect(info.HostConfig.PidsLimit).toBe(200);
    expect((info.HostConfig.PortBindings as Record<string, Array<{ HostIp: string }>>)['18080/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
    const seen = await aca(['exec', name, '--', 'sh', '-c', 'echo "$GREETING|$(id -u)|$(pwd)"'], { env });
    expect(seen.stdout).toBe(`hello ${dir.split('/').pop()}|1000|/workspace/sub\n`);
  });

  it('runs onCreate once and postStart on every start, in the session, with remoteEnv, output on stderr', async () => {
    const dir = project({
      '.devcontainer.json': {
        image: TEST_IMAGE, remoteEnv: { WHO: 'remote' },
        onCreateCommand: 'echo "create $WHO" >> "$HOME/log"', postCreateCommand: ['sh', '-c', 'echo post >> "$HOME/log"'],
        postStartCommand: { first: 'echo start >> "$HOME/log"' },
      },
    });
    const name = `dc-life-${runId}`;
    const first = await aca(['run', '--keep', '--name', name, '--', 'sh', '-c', 'cat "$HOME/log"; echo "cmd $WHO"'], { cwd: dir, env });
    expectOk(first);
    expect(first.stdout).toBe('create remote\npost\nstart\ncmd remote\n');
    expect(first.stderr).toContain('aca: devcontainer onCreateCommand');
    expectOk(await aca(['start', name], { env }));
    const log = await aca(['logs', name], { env });
    // The second start ran postStart again but not the creation commands.
    expect(log.stdout).toContain('create remote\npost\nstart\nstart\ncmd remote\n');
  });

  it('stops at a failing lifecycle command with its exit code and a line naming it', async () => {
    const dir = project({ '.devcontainer.json': { image: TEST_IMAGE, postCreateCommand: 'exit 3' } });
    const result = await aca(['run', '--', 'echo', 'never'], { cwd: dir, env });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('aca: devcontainer postCreateCommand failed with exit code 3');
  });

  it('builds the image the file describes through aca\'s build path, once', async () => {
    const dir = project({
      '.devcontainer/devcontainer.json': { build: { dockerfile: 'Dockerfile', context: '..', args: { FLAVOUR: 'mint' }, target: 'dev' } },
      '.devcontainer/Dockerfile': `FROM ${TEST_IMAGE} AS base\nFROM base AS dev\nARG FLAVOUR\nRUN echo "$FLAVOUR" > /flavour\nFROM base AS other\nRUN false\n`,
    });
    const first = await aca(['run', '--', 'cat', '/flavour'], { cwd: dir, env });
    expectOk(first);
    expect(first.stdout).toBe('mint\n');
    const engine = await testEngine();
    const images = (await engine.http.json('GET', '/images/json', { query: { filters: JSON.stringify({ reference: ['aca-devcontainer/*'] }) } })) as Array<{ Id: string; RepoTags: string[] }>;
    const ours = images.filter((i) => i.RepoTags.some((t) => t.includes('aca-devcontainer/')));
    try {
      expect(ours.length).toBeGreaterThan(0);
      const again = await aca(['run', '--', 'cat', '/flavour'], { cwd: dir, env });
      expectOk(again);
      expect(again.stderr).not.toMatch(/Building/);
    } finally {
      for (const image of ours) await engine.http.json('DELETE', `/images/${image.Id}`, { query: { force: 'true' } }).catch(() => undefined);
    }
  }, 240_000);

  it('refuses what would reach the host or widen the sandbox, creating nothing, until the exact contents are trusted', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'aca-dc-marker-')), 'ran');
    dirs.push(join(marker, '..'));
    const dir = project({ '.devcontainer.json': { image: TEST_IMAGE, initializeCommand: `touch ${marker}` } });
    const before = await created();
    const refused = await aca(['run', '--', 'true'], { cwd: dir, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^aca: .*"initializeCommand": it runs on the host: refused: \.devcontainer\.json is not trusted\n/);
    expect(existsSync(marker)).toBe(false);
    expect(await created()).toBe(before);

    expectOk(await aca(['trust', '.devcontainer.json'], { cwd: dir, env }));
    expectOk(await aca(['run', '--', 'true'], { cwd: dir, env }));
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);

    // A session rewrites the trusted file: it is untrusted again, and nothing runs on the host.
    const name = `dc-attack-${runId}`;
    expectOk(await aca(['run', '--name', name, '--no-devcontainer', '--image', TEST_IMAGE, '--', 'sh', '-c',
      `sed -i 's#}$#, "privileged": true}#' /workspace/.devcontainer.json`], { cwd: dir, env }));
    const again = await aca(['run', '--', 'true'], { cwd: dir, env });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('changed since you trusted it');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses host mounts and host variables from an untrusted file, and privileged, capAdd and securityOpt', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ mounts: ['source=/etc,target=/host-etc,type=bind'] }, /"mounts"\[0\]: binds the host path \/etc: refused/],
      [{ containerEnv: { T: '${localEnv:HOME}' } }, /\$\{localEnv:HOME\} reads the host's environment: refused/],
      [{ privileged: true }, /"privileged": .*: refused/],
      [{ capAdd: ['SYS_ADMIN'] }, /"capAdd": SYS_ADMIN: refused/],
      [{ runArgs: ['--network=host'] }, /"runArgs": "--network=host" is not supported/],
      [{ securityOpt: ['seccomp=unconfined'] }, /"securityOpt": refused/],
      [{ dockerComposeFile: 'compose.yml', service: 'app' }, /Docker Compose configurations are not supported/],
    ];
    const before = await created();
    for (const [extra, message] of cases) {
      const dir = project({ '.devcontainer.json': { image: TEST_IMAGE, ...extra } });
      const result = await aca(['run', '--', 'true'], { cwd: dir, env });
      expect(result.exitCode, JSON.stringify(extra)).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n').filter((l) => !l.startsWith('  ')).length, result.stderr).toBeLessThanOrEqual(2);
    }
    expect(await created()).toBe(before);
  });

  it('says which features it skipped, refuses them with --strict, and is ignored with --no-devcontainer or --image', async () => {
    const dir = project({ '.devcontainer.json': { image: 'no-such/image:dc', features: { 'ghcr.io/devcontainers/features/node:1': {} } } });
    const strict = await aca(['run', '--strict', '--', 'true'], { cwd: dir, env });
    expect(strict.exitCode).toBe(2);
    expect(strict.stderr).toContain('features (ghcr.io/devcontainers/features/node:1): skipped');
    for (const args of [['--no-devcontainer', '--image', TEST_IMAGE], ['--image', TEST_IMAGE]]) {
      const result = await aca(['run', ...args, '--', 'echo', 'ok'], { cwd: dir, env });
      expectOk(result);
      expect(result.stdout).toBe('ok\n');
    }
    const config = await aca(['config', '--json'], { cwd: dir, env });
    expectOk(config);
    expect(JSON.parse(config.stdout).devcontainer).toMatchObject({ file: join(dir, '.devcontainer.json'), image: 'no-such/image:dc' });
  });

  it.skipIf(engineKind === 'none')('publishes forwarded ports only on 127.0.0.1', async () => {
    const dir = project({ '.devcontainer.json': { image: TEST_IMAGE, appPort: 18081 } });
    const name = `dc-port-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name], { cwd: dir, env }));
    const bindings = (await inspectSession(name)).HostConfig.PortBindings as Record<string, Array<{ HostIp: string; HostPort: string }>>;
    expect(bindings['18081/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '18081' }]);
  });
});
