/**
 * The workspace is hostile, tried from the attacker's side (issue 11, rows 2,
 * 5, 6 and 8): a session writes what an agent would, then the host-side step
 * runs (the user's own git as a non-root user, the next aca run), and nothing
 * may run on the host, widen a session, or leave a file with more privilege
 * than the workspace owner. Every git attack is first shown to work with
 * --no-protect-git, so a test that passes proves the protection, not a typo.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { bindableDir, chownTree, WORKSPACE_OWNER } from '../helpers/aca.js';
import { TEST_IMAGE, inspectSession } from '../helpers/engine.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

const { aca, runId } = engineSuite();
const made: string[] = [];
afterAll(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

/** The host user who owns test workspaces: the user whose git runs the planted code. */
const owner = (() => {
  try {
    return execFileSync('getent', ['passwd', String(WORKSPACE_OWNER.uid)], { encoding: 'utf8' }).split(':')[0];
  } catch {
    return undefined;
  }
})();

function tempDir(prefix: string): string {
  const dir = bindableDir(prefix);
  made.push(dir);
  return dir;
}

/** A directory only the host can write, where a planted command would leave its marker. */
const markers = tempDir('aca-markers-');
const marker = (name: string) => join(markers, `${name}-${runId}`);

/** The user's own git on the host, as the (non-root) workspace owner, with a clean global config. */
async function hostGit(cwd: string, args: string[]) {
  return execa('runuser', ['-u', owner!, '--', 'env', `HOME=${markers}`, 'GIT_CONFIG_NOSYSTEM=1', 'git', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, reject: false });
}

/** A repository made on the host by its owner, with one commit. */
async function repository(prefix: string): Promise<string> {
  const ws = tempDir(prefix);
  expect((await hostGit(ws, ['init', '-q', '-b', 'main'])).exitCode).toBe(0);
  expect((await hostGit(ws, ['commit', '-q', '--allow-empty', '-m', 'init'])).exitCode).toBe(0);
  return ws;
}

/** Run the attacker's script in a session on `ws` (busybox shell tools: the test image has no git). */
const session = (ws: string, script: string, extra: string[] = []) => aca(['run', '--image', TEST_IMAGE, ...extra, '--', 'sh', '-c', script], { cwd: ws });

const fsmonitor = (name: string) => `printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch ${marker(name)}; false"\\n'`;

describe.skipIf(!hasEngine || !owner)('row 5: git metadata the session writes never runs on the host', () => {
  // Each attack: [name, script]. The session's writes, as an agent would make them.
  const attacks: Array<[string, string]> = [
    ['commondir', `mkdir -p evil/objects evil/refs/heads && cp .git/HEAD evil/HEAD && ${fsmonitor('commondir')} > evil/config && echo ../evil > .git/commondir`],
    ['rename', `mv .git .git-old && mkdir .git && cp -a .git-old/. .git/ && ${fsmonitor('rename')} >> .git/config`],
  ];
  for (const [name, script] of attacks) {
    it(`${name}: the planted fsmonitor runs with --no-protect-git, and not by default`, async () => {
      const control = await repository(`aca-${name}-open-`);
      expect((await session(control, script, ['--no-protect-git'])).exitCode).toBe(0);
      await hostGit(control, ['status']);
      expect(existsSync(marker(name)), 'the attack works without protection').toBe(true);
      rmSync(marker(name));

      const ws = await repository(`aca-${name}-`);
      const attacked = await session(ws, script);
      expect(attacked.exitCode).not.toBe(0);
      expect(attacked.stderr).toMatch(/Read-only file system|Device or resource busy/);
      const status = await hostGit(ws, ['status', '--porcelain']);
      expect(status.exitCode).toBe(0);
      expect(existsSync(marker(name))).toBe(false);
      expect(existsSync(join(ws, '.git', 'commondir'))).toBe(false);
      expect(lstatSync(join(ws, '.git')).isDirectory()).toBe(true);
    });
  }

  it('core.hooksPath (.husky): a hook written there runs on the next host commit with --no-protect-git, and not by default', async () => {
    const script = `mkdir -p .husky && printf '#!/bin/sh\\ntouch ${marker('husky')}\\n' > .husky/pre-commit && chmod +x .husky/pre-commit`;
    const prepare = async (prefix: string) => {
      const ws = await repository(prefix);
      await hostGit(ws, ['config', 'core.hooksPath', '.husky']);
      return ws;
    };
    const control = await prepare('aca-husky-open-');
    expectOk(await session(control, script, ['--no-protect-git']));
    await hostGit(control, ['commit', '-q', '--allow-empty', '-m', 'x']);
    expect(existsSync(marker('husky')), 'the attack works without protection').toBe(true);
    rmSync(marker('husky'));

    // .husky does not exist yet: a read-only placeholder takes its place, and goes after the session.
    const ws = await prepare('aca-husky-');
    const attacked = await session(ws, script);
    expect(attacked.exitCode).not.toBe(0);
    expect(attacked.stderr).toContain('aca: .husky is read-only in this session: core.hooksPath (.husky)');
    expect(attacked.stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(ws, '.husky'))).toBe(false);
    expect((await hostGit(ws, ['commit', '-q', '--allow-empty', '-m', 'x'])).exitCode).toBe(0);
    expect(existsSync(marker('husky'))).toBe(false);
  });

  it('git init where there was none: nothing is left for the host\'s git to find', async () => {
    const script = `mkdir -p .git/objects .git/refs/heads && echo "ref: refs/heads/main" > .git/HEAD && ${fsmonitor('init')} > .git/config`;
    const control = tempDir('aca-init-open-');
    expectOk(await session(control, script, ['--no-protect-git']));
    await hostGit(control, ['status']);
    expect(existsSync(marker('init')), 'the attack works without protection').toBe(true);
    rmSync(marker('init'));

    const ws = tempDir('aca-init-');
    const attacked = await session(ws, script);
    expect(attacked.exitCode).not.toBe(0);
    expect(attacked.stderr).toMatch(/Read-only file system/);
    expect(readdirSync(ws)).toEqual([]);
    const status = await hostGit(ws, ['-c', `safe.directory=*`, 'status']);
    expect(status.stderr).toMatch(/not a git repository/);
    expect(existsSync(marker('init'))).toBe(false);
  });

  it('a detached session\'s placeholder goes with aca rm, and a .git put there meanwhile stays', async () => {
    const ws = tempDir('aca-init-rm-');
    const name = `placeholder-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE], { cwd: ws }));
    expect(existsSync(join(ws, '.git'))).toBe(true);
    expectOk(await aca(['rm', '-f', name]));
    expect(existsSync(join(ws, '.git'))).toBe(false);
  });
});

describe.skipIf(!hasEngine || !owner)('row 6: links inside .git are never followed into the host', () => {
  it('a .git/hooks link to a host directory and a .git/config link to a host file show nothing of the host', async () => {
    const secretDir = tempDir('aca-host-dir-');
    writeFileSync(join(secretDir, 'host-secret'), `HOSTDIR-${runId}\n`);
    const secretFile = join(tempDir('aca-host-file-'), 'config');
    writeFileSync(secretFile, `HOSTFILE-${runId}\n`);
    const ws = await repository('aca-links-');
    const plant = `rm -rf .git/hooks && ln -s ${secretDir} .git/hooks && mv .git/config .git/config.orig && ln -s ${secretFile} .git/config`;
    // With protection the links cannot even be made; an earlier unprotected session (or a clone) could have.
    const refused = await session(ws, plant);
    expect(refused.exitCode).not.toBe(0);
    expect(lstatSync(join(ws, '.git', 'hooks')).isSymbolicLink()).toBe(false);
    expectOk(await session(ws, plant, ['--no-protect-git']));
    expect(lstatSync(join(ws, '.git', 'config')).isSymbolicLink()).toBe(true);

    const next = await session(ws, 'cat .git/HEAD; readlink .git/hooks; readlink .git/config; cat .git/hooks/* .git/config 2>&1; ls .git/hooks/ 2>&1; true');
    expectOk(next);
    expect(next.stdout).toContain('ref: refs/heads/main');
    expect(next.stdout).toContain(`${secretDir}\n${secretFile}\n`);
    expect(next.stdout).not.toContain(`HOSTDIR-${runId}`);
    expect(next.stdout).not.toContain(`HOSTFILE-${runId}`);
    expect(next.stdout).not.toContain('host-secret');
  });

  it('a .git that is itself a link is refused with one line', async () => {
    const ws = tempDir('aca-gitlink-');
    symlinkSync(tempDir('aca-elsewhere-'), join(ws, '.git'));
    const result = await session(ws, 'true');
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/^aca: workspace .*\/\.git: refused: \.git is a symbolic link; aca does not follow links in git metadata$/);
  });
});

describe.skipIf(!hasEngine)('row 8: no file on the host with more privilege than the workspace owner', () => {
  const script = 'cp /bin/busybox suid && chmod 4755 suid; cp /bin/busybox sgid && chmod 2755 sgid; chown 0:0 suid 2>/dev/null && echo chowned; ls -ln suid sgid';

  it('setuid/setgid bits a session sets stay on files owned by the workspace owner', async () => {
    const ws = tempDir('aca-suid-');
    const result = await session(ws, script);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('chowned');
    // The bits are there (so this test can fail), but on the owner's own file: no more than the owner's privilege.
    expect(statSync(join(ws, 'suid')).mode & 0o4000).toBe(0o4000);
    expect(statSync(join(ws, 'sgid')).mode & 0o2000).toBe(0o2000);
    for (const file of ['suid', 'sgid']) {
      const stat = statSync(join(ws, file));
      expect([stat.uid, stat.gid]).toEqual([WORKSPACE_OWNER.uid, WORKSPACE_OWNER.gid]);
    }
  });

  it('a root-owned workspace is copied in: the session is not root and its binary never reaches the host', async () => {
    const ws = tempDir('aca-suid-root-');
    execFileSync('chown', ['0:0', ws]);
    const result = await session(ws, `id -u; ${script}`);
    expect(result.stderr).toMatch(/^aca: the workspace is owned by root, so it is copied in/);
    expect(result.stdout.split('\n')[0]).toBe('1000');
    expect(readdirSync(ws)).toEqual([]);
  });

  it('-u 0 on a writable bind-mounted workspace is refused, in aca run and aca exec, naming the way out', async () => {
    const ws = tempDir('aca-suid-u0-');
    for (const user of ['0', 'root', '0:0']) {
      const result = await session(ws, script, ['-u', user]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.split('\n')[0]).toBe(`aca: --user ${user}: refused: a session never runs as root on a writable host workspace (what it writes there, setuid binaries included, would be root's on the host)`);
      expect(result.stderr).toMatch(/--workspace-mode copy .*--workspace-ro/);
    }
    expect(readdirSync(ws)).toEqual([]);
    const name = `suid-exec-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE], { cwd: ws }));
    const exec = await aca(['exec', '-u', '0', name, '--', 'sh', '-c', script]);
    expect(exec.exitCode).toBe(2);
    expect(exec.stderr.split('\n')[0]).toMatch(/^aca: -u 0: refused: a session never runs as root/);
    expectOk(await aca(['rm', '-f', name]));
    expect(readdirSync(ws)).toEqual([]);
    // The ways out work: root inside a copy, or on a read-only workspace.
    expectOk(await session(ws, 'id -u', ['-u', '0', '--workspace-mode', 'copy']));
    expectOk(await session(ws, 'id -u', ['-u', '0', '--workspace-ro']));
    expect(readdirSync(ws)).toEqual([]);
  });
});

describe.skipIf(!hasEngine)('row 2 (mounts): the CA bundle is a checked copy, never a mount of a host path', () => {
  const socket = engineKind === 'podman' ? '/run/podman/podman.sock' : '/var/run/docker.sock';
  const bundle = join(tempDir('aca-ca-'), 'corporate.pem');
  writeFileSync(bundle, readFileSync('/etc/ssl/certs/ca-certificates.crt'));

  it('refuses the engine socket, a private key or any non-PEM file with one line naming it, before any session exists', async () => {
    const key = join(tempDir('aca-key-'), 'id_ed25519');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cases: Array<[string, RegExp]> = [
      [socket, /is not a regular file; give a PEM certificate bundle$/],
      [key, /is not a PEM certificate bundle \(it holds a PRIVATE KEY block\)$/],
      ['/etc/passwd', /is not a PEM certificate bundle \(it holds no -----BEGIN CERTIFICATE----- block\)$/],
    ];
    for (const [file, why] of cases) {
      const name = `ca-refused-${runId}`;
      const result = await aca(['run', '--name', name, '--ca-certs', file, '--image', TEST_IMAGE, '--', 'true']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^aca: --ca-certs: refused: ${file}`));
      expect(result.stderr.trim()).toMatch(why);
      expect((await aca(['ps', '-a', '--json'])).stdout).not.toContain(name);
    }
  });

  it('a project file naming the engine socket as caCerts, with user 0:0, is refused', async () => {
    const ws = tempDir('aca-ca-project-');
    writeFileSync(join(ws, '.acarc.json'), JSON.stringify({ caCerts: socket, user: '0:0' }));
    chownTree(ws);
    const result = await aca(['run', '--image', TEST_IMAGE, '--', 'true'], { cwd: ws });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/caCerts/);
  });

  it('hands the session a root-owned copy it cannot change, on its own tmpfs, again after aca start', async () => {
    const ws = tempDir('aca-ca-run-');
    const name = `ca-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--ca-certs', bundle, '--image', TEST_IMAGE], { cwd: ws }));
    try {
      const info = await inspectSession(name);
      expect(JSON.stringify(info.Mounts)).not.toContain(bundle);
      const look = 'grep -c "BEGIN CERTIFICATE" $NODE_EXTRA_CA_CERTS; grep " /etc/aca " /proc/mounts | cut -d" " -f3; echo x >> $SSL_CERT_FILE 2>/dev/null || echo read-only';
      const expected = `${readFileSync(bundle, 'utf8').match(/BEGIN CERTIFICATE/g)!.length}\ntmpfs\nread-only\n`;
      const first = await aca(['exec', name, '--', 'sh', '-c', look]);
      expect(first.stdout).toBe(expected);
      expectOk(await aca(['stop', name]));
      expectOk(await aca(['start', name]));
      const again = await aca(['exec', name, '--', 'sh', '-c', look]);
      expect(again.stdout).toBe(expected);
      expect(readFileSync(bundle)).toEqual(readFileSync('/etc/ssl/certs/ca-certificates.crt'));
    } finally {
      await aca(['rm', '-f', name]);
    }
  });

  it('the command starts only once the bundle is in place', async () => {
    const result = await aca(['run', '--ca-certs', bundle, '--image', TEST_IMAGE, '--', 'sh', '-c', 'test -s /etc/aca/ca-certificates.crt && echo present']);
    expect(result.stdout).toBe('present\n');
  });
});
