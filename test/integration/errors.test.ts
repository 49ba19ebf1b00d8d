import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { ACA_BIN, aca } from '../helpers/aca.js';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineKind, engineSuite, hasEngine } from './setup.js';

/** One line on stderr, no stack trace. */
function oneLine(stderr: string) {
  expect(stderr).not.toMatch(/\n\s+at /);
  return stderr.trim();
}

describe('errors without an engine', () => {
  it('names every place tried when nothing answers, exit 125 whatever the command', async () => {
    const run = await aca(['--host', 'unix:///nonexistent/aca.sock', 'run', '--image', 'x', 'true']);
    expect(run.exitCode).toBe(125);
    expect(oneLine(run.stderr)).toMatch(/no (?:container|podman|docker) engine answered; tried unix:\/\/\/nonexistent\/aca\.sock \(--host\): socket not found/);
    const ps = await aca(['ps'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(ps.exitCode).toBe(125);
    expect(ps.stderr).toMatch(/tcp:\/\/127\.0\.0\.1:1 \(DOCKER_HOST\): connection refused/);
  });

  it('treats unknown flags, commands and engine names as usage errors (exit 2)', async () => {
    for (const args of [['ps', '--bogus'], ['bogus'], ['--engine', 'lxc', 'ps'], ['run', '--cpus', 'many', 'true']]) {
      const result = await aca(args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(oneLine(result.stderr)).toMatch(/^aca: /);
    }
  });

  it('prints a stack trace only with --debug', async () => {
    const plain = await aca(['--host', 'unix:///nonexistent.sock', 'ps']);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await aca(['--debug', '--host', 'unix:///nonexistent.sock', 'ps']);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('prints its version and help on stdout', async () => {
    const version = await aca(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await aca(['--help']);
    expect(help.exitCode).toBe(0);
    for (const command of ['run', 'exec', 'build', 'ps', 'stop', 'start', 'rm', 'logs', 'config']) expect(help.stdout).toContain(command);
  });

  it('knows every subcommand for help and suggestions, though a run declares only its own', async () => {
    const typo = await aca(['pss']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toBe("aca: unknown command 'pss'\n(Did you mean ps?)\n");
    const help = await aca(['help', 'exec']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: aca exec \[options\] <session>/);
    // Global options, with and without values, before the subcommand.
    const behind = await aca(['-q', '--engine', 'docker', '-H', 'unix:///nonexistent.sock', 'logs', '--help']);
    expect(behind.exitCode).toBe(0);
    expect(behind.stdout).toMatch(/^Usage: aca logs/);
  });

  it('hands NODE_EXTRA_CA_CERTS on unchanged when started through a link to the executable, as npm installs it', async () => {
    const bundle = join(mkdtempSync(join(tmpdir(), 'aca-ca-')), 'corporate.pem');
    writeFileSync(bundle, readFileSync('/etc/ssl/certs/ca-certificates.crt'));
    const links = mkdtempSync(join(tmpdir(), 'aca-bin-'));
    symlinkSync(relative(links, ACA_BIN), join(links, 'aca'));
    const result = await execa(join(links, 'aca'), ['config', '--json'], { env: { NODE_EXTRA_CA_CERTS: bundle, NO_COLOR: '1' }, reject: false });
    expect(result.exitCode).toBe(0);
    const entries = (JSON.parse(result.stdout) as { entries: Array<{ key: string; value: unknown; source: string }> }).entries;
    expect(entries.find((e) => e.key === 'caCerts')).toEqual({ key: 'caCerts', value: bundle, source: 'env NODE_EXTRA_CA_CERTS' });
  });
});

describe('configuration', () => {
  it('names the file and the key of an invalid setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-cfg-'));
    writeFileSync(join(dir, '.acarc.json'), JSON.stringify({ memory: 'lots' }));
    const result = await aca(['config'], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(oneLine(result.stderr)).toBe(`aca: ${join(dir, '.acarc.json')}: key "memory": invalid size "lots" (use e.g. 512m, 2g)`);
    writeFileSync(join(dir, '.acarc.json'), JSON.stringify({ memroy: '1g' }));
    const unknown = await aca(['config'], { cwd: dir });
    expect(unknown.stderr.split('\n')[0]).toBe(`aca: ${join(dir, '.acarc.json')}: unknown key "memroy"`);
    writeFileSync(join(dir, '.acarc.json'), '{ not json');
    const broken = await aca(['config'], { cwd: dir });
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain('.acarc.json');
  });

  it('resolves files from the workspace upward over the user file, and says where each value came from', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aca-home-'));
    mkdirSync(join(home, '.config', 'aca'), { recursive: true });
    writeFileSync(join(home, '.config', 'aca', 'config.yaml'), 'memory: 1g\npids: 99\n');
    const project = mkdtempSync(join(tmpdir(), 'aca-proj-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'p', aca: { memory: '512m', image: 'my/image:1' } }));
    mkdirSync(join(project, 'deep', 'er'), { recursive: true });
    const result = await aca(['config', '--json'], { cwd: join(project, 'deep', 'er'), env: { HOME: home, XDG_CONFIG_HOME: '' } });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { entries: Array<{ key: string; value: unknown; source: string }> };
    const entry = (key: string) => report.entries.find((e) => e.key === key);
    // A project may lower the user's limit (raising it is refused: test/integration/trust.test.ts).
    expect(entry('memory')).toEqual({ key: 'memory', value: '512m', source: join(project, 'package.json') });
    expect(entry('image')).toEqual({ key: 'image', value: 'my/image:1', source: join(project, 'package.json') });
    expect(entry('pids')).toEqual({ key: 'pids', value: 99, source: join(home, '.config', 'aca', 'config.yaml') });
    // The default really used: the shared isolated bridge on Docker, a network of its own on Podman.
    const network = engineKind === 'podman' ? 'aca-<session> (a network of its own: Podman ignores icc)'
      : engineKind === 'docker' ? 'aca-isolated (shared bridge, inter-container traffic off)' : 'aca-isolated on Docker, aca-<session> on Podman (engine not reached)';
    expect(entry('network')).toEqual({ key: 'network', value: network, source: 'default' });
  });
});

describe.skipIf(!hasEngine)('configuration applied to a session', () => {
  const { aca: acaIn, workspace } = engineSuite();
  it('uses the file\'s settings, and flags override them', async () => {
    writeFileSync(join(workspace, '.acarc.yaml'), `image: ${TEST_IMAGE}\nenv:\n  GREETING: from-config\n  OTHER: kept\n`);
    const fromFile = await acaIn(['run', '--', 'sh', '-c', 'echo $GREETING $OTHER']);
    expect(fromFile.stdout).toBe('from-config kept\n');
    const overridden = await acaIn(['run', '-e', 'GREETING=from-flag', '--', 'sh', '-c', 'echo $GREETING $OTHER']);
    expect(overridden.stdout).toBe('from-flag kept\n');
  });

  it('fails a run with 125 on an invalid file', async () => {
    writeFileSync(join(workspace, '.acarc.yaml'), 'cpus: fast\n');
    const result = await acaIn(['run', '--image', TEST_IMAGE, 'true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain('key "cpus"');
  });
});
