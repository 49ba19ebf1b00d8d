/** The trust model's pure parts: which keys a project file may set, the trust store, and how files are read. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_CLASSES, mergeKey, wideningKeys } from '../../src/config/classify.js';
import { jsonSyntaxError } from '../../src/config/json-syntax.js';
import { loadConfig, UntrustedConfigError } from '../../src/config/load.js';
import { CONFIG_KEYS, validateConfig } from '../../src/config/schema.js';
import { canonicalPath, readTrustStore, recordTrust, revokeTrust, trustState, trustStoreFile } from '../../src/config/trust.js';
import { listTrusted, trustPath } from '../../src/config/trust-files.js';
import { UsageError } from '../../src/errors.js';

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'aca-trust-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A home with a user config dir and a state dir, and a workspace under it. */
function world(userConfig?: object) {
  const root = temp();
  const env = { XDG_CONFIG_HOME: join(root, 'config'), XDG_STATE_HOME: join(root, 'state'), HOME: root };
  mkdirSync(join(root, 'config', 'aca'), { recursive: true });
  if (userConfig) writeFileSync(join(root, 'config', 'aca', 'config.json'), JSON.stringify(userConfig));
  const workspace = join(root, 'ws');
  mkdirSync(workspace);
  const warnings: string[] = [];
  const load = () => loadConfig({ workspace, env, warn: (m) => warnings.push(m) });
  return { root, env, workspace, warnings, load };
}

describe('the key classification', () => {
  it('classifies every configuration key', () => {
    expect(Object.keys(KEY_CLASSES).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('refuses every key that reaches the host or weakens the sandbox', () => {
    const project = validateConfig({
      secrets: ['K=file:/etc/passwd'], secretEnv: ['T'], volumes: ['/etc:/etc'], ports: ['80'], caCerts: '/var/run/docker.sock',
      user: '0:0', capAdd: ['DAC_OVERRIDE'], runtime: 'runc', engine: 'docker', host: 'tcp://evil:2375', caches: ['npm'],
      writableRoot: true, protectGit: false, network: 'bridge', env: ['GITHUB_TOKEN', 'PLAIN=1'],
    }, 'p');
    expect(wideningKeys(project, {}).map((w) => w.key).sort()).toEqual([
      'caCerts', 'caches', 'capAdd', 'engine', 'env', 'host', 'network', 'ports', 'protectGit', 'runtime', 'secretEnv', 'secrets', 'user', 'volumes', 'writableRoot',
    ]);
    expect(wideningKeys(project, {}).find((w) => w.key === 'env')?.why).toBe('takes GITHUB_TOKEN from your environment');
  });

  it('lets a project narrow: lower limits, a shorter timeout, ro or copy, protections on, literal env, neutral keys', () => {
    const baseline = { memory: '4g', cpus: '2', pids: 1024, timeout: '1h', workspaceMode: 'copy' };
    const narrow = validateConfig({
      memory: '1g', cpus: '0.5', pids: 100, timeout: '10m', ttl: '1h', workspaceMode: 'ro', writableRoot: false, protectGit: true,
      env: { A: 'b' }, image: 'x', workdir: '/w', labels: { team: 'a' }, network: { allow: ['example.com'] },
    }, 'p');
    expect(wideningKeys(narrow, baseline)).toEqual([]);
    const wide = validateConfig({ memory: '8g', cpus: '4', pids: 5000, timeout: '2h', workspaceMode: 'bind' }, 'p');
    expect(wideningKeys(wide, baseline).map((w) => `${w.key}: ${w.why}`)).toEqual([
      'memory: 8g is above 4g', 'cpus: 4 is above 2', 'pids: 5000 is above 1024', 'timeout: 2h is above 1h', 'workspaceMode: "bind" is wider than "copy"',
    ]);
  });

  it('allows an allow-list only when it has fewer hosts than the user\'s, and never a network name or egress network', () => {
    const user = { network: { allow: ['a.com', 'b.com'] } };
    const why = (network: unknown) => wideningKeys(validateConfig({ network }, 'p'), user)[0]?.why;
    expect(why({ allow: ['a.com'] })).toBeUndefined();
    expect(why({ allow: ['a.com', 'evil.com'] })).toBe('allows evil.com, which your allow-list does not');
    expect(why({ allow: ['a.com'], egressNetwork: 'host-lan' })).toMatch(/host-lan/);
    expect(why('bridge')).toBe('joins the network "bridge"');
    expect(wideningKeys(validateConfig({ network: { allow: ['x.com'] } }, 'p'), { network: 'mine' })[0]?.why).toBe('replaces your network setting');
  });

  it('gives the user\'s value on every key, except a narrower limit', () => {
    expect(mergeKey('image', 'mine', 'theirs')).toBe('user');
    expect(mergeKey('env', ['A=1'], ['B=2'])).toBe('user');
    expect(mergeKey('memory', '4g', '1g')).toBe('project');
    expect(mergeKey('memory', '1g', '4g')).toBe('user');
    expect(mergeKey('volumes', ['/a:/a'], ['/b:/b'])).toBe('user');
  });
});

describe('configuration files', () => {
  it('treats __proto__, constructor and toString as unknown keys', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(() => validateConfig(JSON.parse(`{"${key}": 1}`), 'f'), key).toThrow(`f: unknown key "${key}"`);
    }
  });

  it('locates JSON syntax errors by line and column', () => {
    expect(jsonSyntaxError('{"a": 1}')).toBeUndefined();
    expect(jsonSyntaxError('{\n  "a": }')).toEqual({ line: 2, column: 8, reason: 'expected a value, found "}"' });
    expect(jsonSyntaxError('{\n "a": 1,\n}')).toEqual({ line: 3, column: 1, reason: 'expected a property name in double quotes, found "}"' });
    expect(jsonSyntaxError('{"a": 1')?.reason).toBe('expected "," or "}", found end of file');
    expect(jsonSyntaxError('{"a": "x\ny"}')?.line).toBe(1);
    expect(jsonSyntaxError('{} x')?.reason).toBe('expected the end of the file, found "x"');
  });

  it('names file, line and reason for a broken project file, and a directory where a file should be', async () => {
    const w = world();
    writeFileSync(join(w.workspace, '.acarc.json'), '{\n  "memory": "1g",\n  "cpus": \n}');
    await expect(w.load()).rejects.toThrow(`${join(w.workspace, '.acarc.json')}:4:1: invalid JSON: expected a value, found "}"`);
    rmSync(join(w.workspace, '.acarc.json'));
    writeFileSync(join(w.workspace, '.acarc.yaml'), 'memory: 1g\ncpus: [1\n');
    await expect(w.load()).rejects.toThrow(new RegExp(`^${join(w.workspace, '.acarc.yaml')}:\\d+:\\d+: invalid YAML: `));
    rmSync(join(w.workspace, '.acarc.yaml'));
    mkdirSync(join(w.workspace, '.acarc.json'));
    await expect(w.load()).rejects.toThrow(`${join(w.workspace, '.acarc.json')}: is a directory`);
  });

  it('never loads an executable project file, in the workspace or above it, and says so once per file', async () => {
    const w = world();
    const marker = join(w.root, 'ran');
    const code = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = { image: 'evil' };`;
    writeFileSync(join(w.workspace, '.acarc.cjs'), code);
    writeFileSync(join(w.root, 'aca.config.js'), code);
    mkdirSync(join(w.workspace, '.config'));
    writeFileSync(join(w.workspace, '.config', 'acarc.mjs'), code);
    const loaded = await w.load();
    expect(loaded.values.image).toBeUndefined();
    expect(() => readFileSync(marker)).toThrow();
    expect(w.warnings).toHaveLength(3);
    expect(w.warnings[0]).toMatch(/^ignored .*\.acarc\.cjs: a project file is never run/);
  });

  it('loads the user\'s own executable file', async () => {
    const w = world();
    writeFileSync(join(w.env.XDG_CONFIG_HOME, 'aca', 'config.cjs'), "module.exports = { image: 'mine' };");
    expect((await w.load()).values.image).toBe('mine');
  });

  it('refuses an untrusted widening project file in one line that names the file, the key and aca trust', async () => {
    const w = world();
    const file = join(w.workspace, '.acarc.json');
    writeFileSync(file, JSON.stringify({ volumes: ['/etc/cron.d:/c'], memory: '1g' }));
    const error = await w.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntrustedConfigError);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `${file}: refused: key "volumes" (mounts host paths or volumes) widens the sandbox and it is not trusted; if you wrote it, review it and run: aca trust ${file}`,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('honours a trusted file, and refuses it again once it changes', async () => {
    const w = world();
    const file = join(w.workspace, '.acarc.json');
    writeFileSync(file, JSON.stringify({ secrets: ['K=file:/etc/hostname'] }));
    const trusted = await trustPath(w.workspace, w.env, undefined, () => {});
    expect(trusted.file).toBe(canonicalPath(file));
    expect(trusted.widening.map((x) => x.key)).toEqual(['secrets']);
    const loaded = await w.load();
    expect(loaded.values.secrets).toEqual(['K=file:/etc/hostname']);
    expect(loaded.project).toMatchObject({ trust: 'trusted' });
    writeFileSync(file, JSON.stringify({ secrets: ['K=file:/root/.ssh/id_ed25519'] }));
    await expect(w.load()).rejects.toThrow(/changed since you trusted it/);
    expect(listTrusted(w.env)).toMatchObject([{ file: canonicalPath(file), state: 'changed' }]);
  });

  it('lets the user\'s configuration win over the project\'s, and a project narrow a limit', async () => {
    const w = world({ image: 'mine', memory: '2g' });
    writeFileSync(join(w.workspace, 'package.json'), JSON.stringify({ name: 'x', aca: { image: 'theirs', memory: '512m' } }));
    const loaded = await w.load();
    expect(loaded.values).toMatchObject({ image: 'mine', memory: '512m' });
    expect(loaded.origins).toMatchObject({ image: 'user', memory: 'project' });
  });

  it('skips a package.json without an "aca" key', async () => {
    const w = world();
    writeFileSync(join(w.workspace, 'package.json'), '{"name": "aca-like"}');
    writeFileSync(join(w.root, '.acarc.yaml'), 'image: above\n');
    expect((await w.load()).values.image).toBe('above');
  });
});

describe('the trust store', () => {
  it('records the hash per file, says changed for other bytes, and revokes', () => {
    const w = world();
    const file = join(w.workspace, '.acarc.json');
    const hash = 'a'.repeat(64);
    expect(trustState(w.env, file, hash)).toBe('untrusted');
    recordTrust(w.env, file, hash);
    expect(trustState(w.env, file, hash)).toBe('trusted');
    expect(trustState(w.env, file, 'b'.repeat(64))).toBe('changed');
    expect(revokeTrust(w.env, file)).toBe(true);
    expect(revokeTrust(w.env, file)).toBe(false);
    expect(trustState(w.env, file, hash)).toBe('untrusted');
  });

  it('is one entry for a file reached through a symlinked directory', () => {
    const w = world();
    symlinkSync(w.workspace, join(w.root, 'link'));
    recordTrust(w.env, join(w.root, 'link', '.acarc.json'), 'c'.repeat(64));
    expect(trustState(w.env, join(w.workspace, '.acarc.json'), 'c'.repeat(64))).toBe('trusted');
  });

  it('trusts nothing when the store is corrupt, and ignores entries that are not hashes', () => {
    const w = world();
    mkdirSync(join(w.env.XDG_STATE_HOME, 'aca'), { recursive: true });
    writeFileSync(trustStoreFile(w.env), '{ nope');
    expect(Object.keys(readTrustStore(w.env))).toEqual([]);
    writeFileSync(trustStoreFile(w.env), `{"files": {"/x": {"sha256": "short"}, "__proto__": {"sha256": "${'d'.repeat(64)}"}}}`);
    expect(trustState(w.env, '/x', 'short')).toBe('untrusted');
    expect(Object.getPrototypeOf(readTrustStore(w.env))).toBeNull();
    expect(trustState(w.env, '/y', 'd'.repeat(64))).toBe('untrusted');
  });

  it('refuses to trust an executable file, the user\'s own directory, or a name aca never reads', async () => {
    const w = world();
    const trust = (path: string) => trustPath(w.workspace, w.env, path, () => {});
    await expect(trust('.acarc.cjs')).rejects.toThrow(/executable configuration is never loaded from a project/);
    await expect(trust(join(w.env.XDG_CONFIG_HOME, 'aca', 'config.json'))).rejects.toThrow(/always trusted/);
    await expect(trust('notes.json')).rejects.toThrow(/not a project configuration file/);
    await expect(trustPath(w.workspace, w.env, undefined, () => {})).rejects.toThrow(/no project configuration applies/);
  });
});

describe('relaxations and their sources', () => {
  it('attributes each relaxation to the flag, the user config or the trusted project file', async () => {
    const { resolveSecurity } = await import('../../src/security/resolve.js');
    const { readRelaxations, relaxationLabels } = await import('../../src/security/relaxations.js');
    const { configOrigin } = await import('../../src/config/load.js');
    const { hostRelaxations } = await import('../../src/sessions/host-relaxations.js');
    const config = {
      values: { env: ['FROM_HOST', 'LITERAL=1'], volumes: ['/data:/data'], user: '0:0', capAdd: ['CHOWN'], secrets: ['S=file:/etc/hostname'] },
      sources: { env: '/u/config.json', volumes: '/p/.acarc.json', user: '/p/.acarc.json', capAdd: '/u/config.json', secrets: '/p/.acarc.json' },
      origins: { env: 'user', volumes: 'project', user: 'project', capAdd: 'user', secrets: 'project' },
    } as const;
    const plan = await resolveSecurity({
      flags: { capAdd: ['NET_BIND_SERVICE'], writableRoot: true }, file: config.values as never, cwd: '/', env: {}, volumes: [], origin: (key) => configOrigin(config as never, key),
    });
    const host = hostRelaxations({ config: config as never, flags: { env: ['TERM_FROM_HOST', 'X=1'], volume: ['/flag:/flag'] } });
    const all = [...plan.relaxations, ...host];
    expect(all).toEqual(expect.arrayContaining([
      { what: 'cap-add=CHOWN', from: 'user config /u/config.json' },
      { what: 'cap-add=NET_BIND_SERVICE', from: 'flag' },
      { what: 'writable-root', from: 'flag' },
      { what: 'secret=S', from: 'trusted project file /p/.acarc.json' },
      { what: 'env=FROM_HOST', from: 'user config /u/config.json' },
      { what: 'env=TERM_FROM_HOST', from: 'flag' },
      { what: 'volume=/data:/data', from: 'trusted project file /p/.acarc.json' },
      { what: 'volume=/flag:/flag', from: 'flag' },
      { what: 'user=0:0', from: 'trusted project file /p/.acarc.json' },
    ]));
    expect(all.map((r) => r.what)).not.toContain('env=LITERAL=1');
    expect(readRelaxations(relaxationLabels(all))).toEqual(all);
    expect(readRelaxations({ 'aca.security.relaxed': 'writable-root' })).toEqual([{ what: 'writable-root', from: 'unknown' }]);
  });
});

describe("aca's own directories", () => {
  it('are never mounted, nor a directory that holds them: a session that wrote the trust store would trust itself', async () => {
    const { refusalFor } = await import('../../src/security/mounts.js');
    const { mountFacts } = await import('../../src/security/resolve.js');
    const root = temp();
    const facts = mountFacts({ XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), HOME: root });
    expect(refusalFor(join(root, 'state', 'aca'), facts)?.rule).toMatch(/^no aca state or configuration/);
    expect(refusalFor(join(root, 'state', 'aca', 'trusted.json'), facts)?.rule).toMatch(/^no aca state/);
    expect(refusalFor(join(root, 'config'), facts)?.rule).toMatch(/contains it$/);
    expect(refusalFor(join(root, 'state', 'other'), facts)).toBeUndefined();
  });
});
