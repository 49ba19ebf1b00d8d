import { describe, expect, it } from 'vitest';
import { createBody, ownershipLabels, KEEP_ALIVE, type SessionSpec } from '../../src/sessions/spec.js';
import { checkSessionUser, defaultSessionUser, isRootUser, numericIds, workspaceModeFor } from '../../src/security.js';
import { matchSession } from '../../src/sessions/resolve.js';
import { healthFromStatus } from '../../src/sessions/manage.js';
import { commandDidNotStart, isLocalContainerProcess, signalExitCode } from '../../src/sessions/foreground.js';
import { generateSessionName } from '../../src/sessions/names.js';
import type { ContainerSummary } from '../../src/engine/types.js';

const base: SessionSpec = {
  name: 'n', image: 'img', command: ['echo', 'hi'], workspace: { hostPath: '/src', readOnly: false }, env: [['A', '1']], volumes: [],
  labels: { team: 'red' }, ports: [], user: '1000:1000', network: 'bridge', memory: 512 * 1024 ** 2, nanoCpus: 1e9, pids: 100,
  interactive: false, tty: false, detach: false, ownership: { 'aca.managed': 'true', 'aca.session': 'n' },
};

describe('createBody', () => {
  it('hardens every session', () => {
    const body = createBody(base);
    expect(body.HostConfig).toMatchObject({
      CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges:true'], Privileged: false, Init: true,
      Memory: 512 * 1024 ** 2, MemorySwap: 512 * 1024 ** 2, NanoCpus: 1e9, PidsLimit: 100, RestartPolicy: { Name: 'no' },
    });
    expect(body.HostConfig.Binds).toEqual(['/src:/workspace']);
    expect(body.HostConfig.Tmpfs['/home/aca']).toContain('uid=1000,gid=1000');
    expect(body.WorkingDir).toBe('/workspace');
    expect(body.Env).toEqual(['HOME=/home/aca', 'A=1']);
    expect(body.Labels).toEqual({ team: 'red', 'aca.managed': 'true', 'aca.session': 'n' });
  });
  it('lets aca\'s ownership labels win over user labels', () => {
    expect(createBody({ ...base, labels: { 'aca.session': 'evil' } }).Labels['aca.session']).toBe('n');
  });
  it('keeps a detached session without a command alive', () => {
    expect(createBody({ ...base, command: [], detach: true }).Cmd).toEqual(KEEP_ALIVE);
    expect(createBody({ ...base, command: [] }).Cmd).toBeUndefined();
  });
  it('opens stdin only with -i, and never bind-mounts the CA bundle: it gets a tmpfs the copy is written to', () => {
    const body = createBody({ ...base, interactive: true, caCerts: '/etc/ssl/ca.crt' });
    expect([body.OpenStdin, body.StdinOnce, body.AttachStdin]).toEqual([true, true, true]);
    expect(body.HostConfig.Binds.join(' ')).not.toContain('/etc/ssl/ca.crt');
    expect(body.HostConfig.Tmpfs?.['/etc/aca']).toMatch(/^rw,nosuid,nodev,noexec,size=\d+,mode=0755$/);
    // The launcher's gate lives on the private /run/secrets tmpfs.
    expect(body.HostConfig.Tmpfs?.['/run/secrets']).toBeDefined();
    expect(body.Env).toContain('NODE_EXTRA_CA_CERTS=/etc/aca/ca-certificates.crt');
  });
  it('maps ports', () => {
    const body = createBody({ ...base, ports: [{ hostIp: '127.0.0.1', hostPort: '8080', containerPort: 80, protocol: 'tcp' }] });
    expect(body.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(body.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  });
  it('labels foreground owners with pid and boot id', () => {
    const base = { session: 's', user: 'u', host: 'h', version: '1', now: new Date(0), owner: { pid: 7, bootId: 'b' } };
    expect(ownershipLabels({ ...base, mode: 'foreground' })).toMatchObject({ 'aca.owner.pid': '7', 'aca.owner.boot': 'b', 'aca.mode': 'foreground', 'aca.created': '1970-01-01T00:00:00.000Z' });
    for (const mode of ['detached', 'interactive', 'kept'] as const) {
      expect(ownershipLabels({ ...base, mode })).not.toHaveProperty('aca.owner.pid');
    }
  });
});

describe('session user', () => {
  it('is the workspace owner, else the invoking user, else 1000:1000 for root: never root', () => {
    expect(defaultSessionUser({ uid: 501, gid: 20 }, { uid: 0, gid: 0 })).toBe('501:20');
    expect(defaultSessionUser({ uid: 0, gid: 0 }, { uid: 1000, gid: 1000 })).toBe('1000:1000');
    expect(defaultSessionUser({ uid: 0, gid: 0 }, { uid: 0, gid: 0 })).toBe('1000:1000');
    expect(defaultSessionUser(undefined, { uid: 1001, gid: 1002 })).toBe('1001:1002');
    expect(defaultSessionUser(undefined, { uid: 0, gid: 0 })).toBe('1000:1000');
    expect(numericIds('12:34')).toEqual({ uid: 12, gid: 34 });
    expect(numericIds('aca')).toBeUndefined();
  });
});

describe('no privilege on the host', () => {
  it('copies a root-owned workspace in unless a mode was chosen', () => {
    expect(workspaceModeFor({ uid: 0, gid: 0 }, false)).toMatchObject({ mode: 'copy', note: expect.stringMatching(/owned by root, so it is copied in/) });
    expect(workspaceModeFor({ uid: 0, gid: 0 }, true)).toBeUndefined();
    expect(workspaceModeFor({ uid: 1000, gid: 1000 }, false)).toBeUndefined();
    expect(workspaceModeFor(undefined, false)).toBeUndefined();
  });
  it('refuses root only on a writable bind-mounted workspace, naming the way out', () => {
    for (const user of ['0', '0:0', '00:1000', 'root', 'root:root']) {
      expect(() => checkSessionUser(user, '--user', 'bind')).toThrow(`--user ${user}: refused: a session never runs as root on a writable host workspace`);
    }
    expect(() => checkSessionUser('0', '-u', 'bind')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/--workspace-mode copy.*--workspace-ro/) }));
    expect(() => checkSessionUser('0:0', '--user', 'copy')).not.toThrow();
    expect(() => checkSessionUser('root', '--user', 'ro')).not.toThrow();
    expect(() => checkSessionUser('1000:0', '--user', 'bind')).not.toThrow();
    expect(() => checkSessionUser('rooted', '--user', 'bind')).not.toThrow();
    expect(isRootUser('10')).toBe(false);
  });
});

describe('matchSession', () => {
  const c = (id: string, name: string): ContainerSummary => ({ Id: id, Names: [`/aca-${name}`], Image: 'i', State: 'running', Status: '', Created: 0, Labels: { 'aca.session': name } });
  const all = [c('abc123', 'one'), c('abd456', 'two'), c('ffff00', 'abc')];
  it('prefers an exact name, then a unique id prefix', () => {
    expect(matchSession(all, 'two').Id).toBe('abd456');
    expect(matchSession(all, 'abc').Id).toBe('ffff00');
    expect(matchSession(all, 'abd').Id).toBe('abd456');
  });
  it('refuses ambiguous prefixes and unknown names', () => {
    expect(() => matchSession(all, 'ab')).toThrow(/ambiguous: one, two/);
    expect(() => matchSession(all, 'zzz')).toThrow(/no such session: zzz/);
  });
});

describe('small rules', () => {
  it('reads health from docker status text', () => {
    expect(healthFromStatus('Up 3 minutes (healthy)')).toBe('healthy');
    expect(healthFromStatus('Up 3 seconds (health: starting)')).toBe('starting');
    expect(healthFromStatus('Up 1 hour (unhealthy)')).toBe('unhealthy');
    expect(healthFromStatus('Exited (0) 2 minutes ago')).toBe('none');
  });
  it('maps start failures to shell exit codes', () => {
    expect(commandDidNotStart('x', 's', 'exec: "x": executable file not found in $PATH')?.exitCode).toBe(127);
    expect(commandDidNotStart('/etc/passwd', 's', 'exec: "/etc/passwd": permission denied')?.exitCode).toBe(126);
    expect(commandDidNotStart('x', 's', 'something else')).toBeUndefined();
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });
  it('generates readable names', () => {
    expect(generateSessionName()).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
  });
});

describe('isLocalContainerProcess', () => {
  it('refuses pids that share this process\'s namespace or do not exist here, as a remote engine\'s would', () => {
    expect(isLocalContainerProcess(process.pid, process.pid)).toBe(false);
    expect(isLocalContainerProcess(process.ppid, 1)).toBe(false);
    expect(isLocalContainerProcess(4_000_000, 4_000_001)).toBe(false);
    expect(isLocalContainerProcess(0, process.pid)).toBe(false);
  });
});
