import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseDevcontainer, devcontainerCandidates } from '../../src/devcontainer/discover.js';
import { wrapperScript } from '../../src/devcontainer/lifecycle.js';
import { mapDevcontainer } from '../../src/devcontainer/map.js';
import { parseDevcontainer, readDevcontainer } from '../../src/devcontainer/read.js';
import { devcontainerId, substitute } from '../../src/devcontainer/variables.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'aca-devc-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
const map = (config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  mapDevcontainer({ path: '/w/.devcontainer/devcontainer.json', config, workspace: '/w', env });

describe('devcontainer discovery', () => {
  it('finds the files the reference CLI finds, top-level first', () => {
    const ws = workspace({ '.devcontainer/devcontainer.json': '{}', '.devcontainer/py/devcontainer.json': '{}', '.devcontainer.json': '{}' });
    expect(devcontainerCandidates(ws).map((p) => p.slice(ws.length + 1))).toEqual(['.devcontainer/devcontainer.json', '.devcontainer.json', '.devcontainer/py/devcontainer.json']);
    expect(chooseDevcontainer(ws, ws)).toBe(join(ws, '.devcontainer/devcontainer.json'));
    expect(chooseDevcontainer(ws, ws, 'py')).toBe(join(ws, '.devcontainer/py/devcontainer.json'));
  });

  it('refuses to guess between several named configurations, listing them', () => {
    const ws = workspace({ '.devcontainer/a/devcontainer.json': '{}', '.devcontainer/b/devcontainer.json': '{}' });
    expect(() => chooseDevcontainer(ws, ws)).toThrow(/several devcontainer.json files: .devcontainer\/a\/devcontainer.json, .devcontainer\/b\/devcontainer.json/);
    expect(() => chooseDevcontainer(ws, ws, 'c')).toThrow(/--devcontainer: no devcontainer.json at c/);
    expect(chooseDevcontainer(workspace({}), '/')).toBeUndefined();
  });
});

describe('devcontainer.json parsing', () => {
  it('accepts comments and trailing commas, and hashes the bytes it parsed', () => {
    const ws = workspace({ '.devcontainer.json': '// env\n{ "image": "x", /* c */ "remoteUser": "dev", }\n' });
    const file = readDevcontainer(join(ws, '.devcontainer.json'));
    expect(file.config).toEqual({ image: 'x', remoteUser: 'dev' });
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the line, column and reason of a syntax error', () => {
    expect(() => parseDevcontainer('f.json', '{\n  "image": "x"\n  "user": 1\n}')).toThrow('f.json:3:3: cannot be parsed: CommaExpected');
    expect(() => parseDevcontainer('f.json', '[1]')).toThrow('f.json: expected an object of properties');
  });
});

describe('devcontainer variables', () => {
  const context = { localWorkspaceFolder: '/home/u/proj', containerWorkspaceFolder: '/workspace', env: { HOME: '/home/u' } };
  it('substitutes the specification\'s variables and reports host variables read', () => {
    const result = substitute('${localWorkspaceFolderBasename}:${containerWorkspaceFolder}:${localEnv:HOME}:${localEnv:NOPE:dflt}', context);
    expect(result).toEqual({ text: 'proj:/workspace:/home/u:dflt', localEnv: ['HOME', 'NOPE'] });
    expect(substitute('${devcontainerId}', context).text).toBe(devcontainerId('/home/u/proj'));
  });

  it('turns containerEnv into a shell expansion, quoting everything else', () => {
    expect(substitute('a"$b`${containerEnv:PATH}:${containerEnv:X:d}', context, { shell: true }).text).toBe('a\\"\\$b\\`${PATH}:${X:-d}');
  });
});

describe('devcontainer mapping', () => {
  it('maps what stays inside the sandbox', () => {
    const plan = map({
      image: 'img', containerEnv: { A: '1' }, remoteEnv: { P: '${containerEnv:PATH}:/x' }, remoteUser: 'dev', workspaceFolder: '/workspace/sub',
      forwardPorts: [3000, '8080:80'], hostRequirements: { cpus: 1, memory: '2gb' }, runArgs: ['--memory=1g', '-e', 'B=2', '--label', 'k=v', '--init'],
      mounts: ['type=volume,source=cache,target=/cache'], postCreateCommand: 'make', postStartCommand: ['echo', 'hi'],
      features: { 'ghcr.io/devcontainers/features/node:1': {} }, customizations: { aca: { memory: '1g' }, vscode: {} },
    });
    expect(plan).toMatchObject({
      image: 'img', containerEnv: [['A', '1'], ['B', '2']], remoteEnv: [['P', '${PATH}:/x']], user: 'dev', workdir: '/workspace/sub',
      ports: ['127.0.0.1:3000:3000', '127.0.0.1:8080:80'], limits: { memory: '1g', cpus: '1' }, labels: { k: 'v' }, volumes: ['cache:/cache'],
      lifecycle: { postCreateCommand: 'make', postStartCommand: ['echo', 'hi'] }, acaSettings: { memory: '1g' }, widenings: [],
    });
    expect(plan.unsupported[0]).toMatch(/^features \(ghcr.io\/devcontainers\/features\/node:1\): skipped/);
  });

  it('collects every widening: host command, host paths, host variables, privilege, capabilities', () => {
    const plan = map({
      image: 'img', initializeCommand: 'curl x | sh', privileged: true, capAdd: ['SYS_ADMIN'], runArgs: ['--cap-add', 'NET_ADMIN', '-e', 'TOKEN'],
      mounts: ['source=${localEnv:HOME}/.ssh,target=/s,type=bind', { type: 'volume', source: 'aca-other-home', target: '/h' }],
      containerEnv: { T: '${localEnv:GITHUB_TOKEN}' },
    }, { HOME: '/home/u', TOKEN: 't', GITHUB_TOKEN: 'g' });
    expect(plan.widenings).toEqual([
      expect.stringContaining('"initializeCommand": it runs on the host'),
      expect.stringContaining('"privileged"'),
      expect.stringContaining('"capAdd": SYS_ADMIN'),
      expect.stringContaining('"runArgs": --cap-add'),
      expect.stringContaining('-e TOKEN takes the host\'s value'),
      expect.stringContaining('${localEnv:HOME}'),
      expect.stringContaining('binds the host path /home/u/.ssh'),
      expect.stringContaining("names aca's volume aca-other-home"),
      expect.stringContaining('${localEnv:GITHUB_TOKEN}'),
    ]);
  });

  it('never takes root from the file, and refuses what aca cannot do', () => {
    const rooted = map({ image: 'i', containerUser: 'root', remoteUser: '0:0' });
    expect(rooted.user).toBeUndefined();
    expect(rooted.notes).toEqual([expect.stringContaining('containerUser root: ignored'), expect.stringContaining('remoteUser 0:0: ignored')]);
    expect(() => map({ image: 'i', securityOpt: ['seccomp=unconfined'] })).toThrow(/"securityOpt": refused/);
    expect(() => map({ dockerComposeFile: 'c.yml', service: 'app' })).toThrow(/Docker Compose configurations are not supported/);
    expect(() => map({ image: 'i', runArgs: ['--privileged'] })).toThrow(/"runArgs": "--privileged" is not supported/);
    expect(() => map({ image: 'i', workspaceFolder: '/etc' })).toThrow(/outside \/workspace/);
    expect(() => map({ name: 'x' })).toThrow(/names neither "image" nor "build"/);
  });

  it('resolves a build relative to the file and keeps the Dockerfile inside its context', () => {
    expect(map({ build: { dockerfile: 'Dockerfile', context: '..', args: { V: '${localWorkspaceFolderBasename}' }, target: 'dev', cacheFrom: 'c' } }).build)
      .toEqual({ context: '/w', dockerfile: '.devcontainer/Dockerfile', args: { V: 'w' }, target: 'dev', cacheFrom: ['c'] });
    expect(map({ build: { dockerfile: 'D', context: '../..' } }).widenings).toEqual([expect.stringContaining('is outside the workspace')]);
    expect(() => map({ build: { dockerfile: '../../D' } })).toThrow(/must be inside the build context/);
  });
});

describe('devcontainer lifecycle wrapper', () => {
  const sh = (script: string, home: string, args: string[]) => {
    try {
      return { out: execFileSync('sh', ['-c', `${script}`, 'aca-devcontainer', ...args], { env: { HOME: home, PATH: process.env.PATH }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), code: 0 };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { out: e.stdout, code: e.status, err: e.stderr };
    }
  };

  it('runs the creation commands once, postStart every time, then the command, with remoteEnv set', () => {
    const home = workspace({});
    const script = wrapperScript({
      commands: { onCreateCommand: 'echo create >> "$HOME/log"', postCreateCommand: ['sh', '-c', 'echo post >> "$HOME/log"'], postStartCommand: { a: 'echo start >> "$HOME/log"' } },
      remoteEnv: [['GREETING', 'hi \\"there\\"']], marker: 'created-1', attached: false,
    });
    expect(sh(script, home, ['sh', '-c', 'echo "$GREETING"'])).toEqual({ out: 'hi "there"\n', code: 0 });
    expect(sh(script, home, ['true']).code).toBe(0);
    expect(execFileSync('cat', [join(home, 'log')], { encoding: 'utf8' })).toBe('create\npost\nstart\nstart\n');
  });

  it('stops at a failing command, names it, and exits with its code', () => {
    const home = workspace({});
    const script = wrapperScript({ commands: { postCreateCommand: { ok: 'true', bad: 'exit 3' } }, remoteEnv: [], marker: 'm', attached: false });
    const result = sh(script, home, ['echo', 'never']);
    expect(result).toMatchObject({ out: '', code: 3 });
    expect(result.err).toContain("aca: devcontainer postCreateCommand 'bad' failed with exit code 3");
  });
});
