import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseContext, contextDirName, resolveContext } from '../../src/engine/contexts.js';
import { engineCandidates, isRemoteEndpoint, parseEngineUrl } from '../../src/engine/endpoint.js';
import { planForRemote } from '../../src/sessions/remote.js';

describe('Docker contexts', () => {
  it('chooses the context in the docker CLI\'s order', () => {
    expect(chooseContext({ flag: 'a', engine: 'auto', env: { DOCKER_HOST: 'tcp://x', DOCKER_CONTEXT: 'b' }, currentContext: 'c' })).toEqual({ name: 'a', source: '--context' });
    expect(chooseContext({ engine: 'auto', env: { DOCKER_HOST: 'tcp://x', DOCKER_CONTEXT: 'b' }, currentContext: 'c' })).toBeUndefined();
    expect(chooseContext({ engine: 'auto', env: { DOCKER_CONTEXT: 'b' }, currentContext: 'c' })?.name).toBe('b');
    expect(chooseContext({ engine: 'auto', env: {}, currentContext: 'c' })?.name).toBe('c');
    expect(chooseContext({ engine: 'auto', env: {}, currentContext: 'default' })).toBeUndefined();
    // docker's current context is docker's setting: --engine podman looks for Podman.
    expect(chooseContext({ engine: 'podman', env: {}, currentContext: 'c' })).toBeUndefined();
    expect(() => chooseContext({ flag: 'a', host: 'tcp://h', engine: 'auto', env: {} })).toThrow(/--context and --host/);
  });

  const dir = mkdtempSync(join(tmpdir(), 'aca-contexts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads a context\'s host and TLS files where the docker CLI stores them', () => {
    const id = contextDirName('remote');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'tcp://box:2376', SkipTLSVerify: false } } }));
    mkdirSync(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'tls', id, 'docker', 'ca.pem'), '');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    const context = resolveContext({ engine: 'auto', env: { DOCKER_CONFIG: dir } })!;
    expect(context).toMatchObject({ name: 'remote', host: 'tcp://box:2376', tls: { ca: join(dir, 'contexts', 'tls', id, 'docker', 'ca.pem') } });
    expect(context.tls?.cert).toBeUndefined();
    const [candidate] = engineCandidates({ engine: 'auto', env: {}, context });
    expect(candidate).toMatchObject({ endpoint: { protocol: 'https', hostname: 'box', port: 2376 }, source: 'Docker context "remote" (current context in the docker config)' });
    expect(() => resolveContext({ flag: 'nope', engine: 'auto', env: { DOCKER_CONFIG: dir } })).toThrow(/--context: no Docker context named "nope"/);
  });
});

describe('remote engines', () => {
  it('treats only a unix socket as this machine', () => {
    expect(isRemoteEndpoint(parseEngineUrl('unix:///var/run/docker.sock'))).toBe(false);
    expect(isRemoteEndpoint(parseEngineUrl('tcp://127.0.0.1:2376'))).toBe(true);
    expect(isRemoteEndpoint(parseEngineUrl('ssh://me@box'))).toBe(true);
  });
  it('means TLS for tcp:// when TLS files are given', () => {
    expect(engineCandidates({ host: 'tcp://h', engine: 'auto', env: {}, tlsFiles: true })[0]!.endpoint.protocol).toBe('https');
    expect(engineCandidates({ host: 'tcp://h', engine: 'auto', env: {} })[0]!.endpoint.protocol).toBe('http');
  });

  const remote = { remote: true, url: 'ssh://me@box' };
  const base = { location: remote, hasWorkspace: true, workspaceRo: false, volumes: [] };
  it('copies the workspace in on a remote engine, and changes nothing on a local one', () => {
    expect(planForRemote(base)).toMatchObject({ workspaceMode: 'copy' });
    expect(planForRemote({ ...base, location: { remote: false, url: 'unix:///x' }, volumes: [{ source: '/a', target: '/b', readOnly: false, from: '-v' }] }))
      .toEqual({ notes: [] });
    expect(planForRemote({ ...base, workspaceMode: { value: 'copy', from: '--workspace-mode' } }).workspaceMode).toBeUndefined();
  });
  it('refuses host paths a remote engine would create empty', () => {
    expect(() => planForRemote({ ...base, volumes: [{ source: '/srv/data', target: '/d', readOnly: false, from: '-v' }] }))
      .toThrow('-v: cannot mount /srv/data: the engine at ssh://me@box is remote');
    expect(planForRemote({ ...base, volumes: [{ source: 'named', target: '/d', readOnly: false, from: '-v' }] }).workspaceMode).toBe('copy');
    expect(() => planForRemote({ ...base, workspaceMode: { value: 'bind', from: 'workspaceMode' } })).toThrow(/^workspaceMode: cannot bind the workspace/);
    expect(() => planForRemote({ ...base, workspaceRo: true })).toThrow(/^--workspace-ro: cannot bind/);
  });
});

describe('engine facts for aca doctor', async () => {
  const { parseDfAvailable, securityFeatures } = await import('../../src/engine/info.js');
  it('reads security features from SecurityOptions and runtimes', () => {
    expect(securityFeatures({ SecurityOptions: ['name=seccomp,profile=default', 'name=apparmor', 'name=rootless'] }, false))
      .toEqual({ seccomp: true, apparmor: true, selinux: false, userns: true, rootless: true, gvisor: false });
    // Podman lists runtimes it is configured for, installed or not: on this machine, the binary must exist.
    expect(securityFeatures({ Runtimes: { runsc: { path: '/nonexistent/runsc' } } }, true).gvisor).toBe(false);
    expect(securityFeatures({ Runtimes: { runsc: { path: '/nonexistent/runsc' } } }, false).gvisor).toBe(true);
  });
  it('reads df -Pk', () => {
    expect(parseDfAvailable('Filesystem 1024-blocks Used Available Capacity Mounted on\noverlay 100 40 60 40% /\n')).toBe(60 * 1024);
    expect(parseDfAvailable('nonsense')).toBeUndefined();
  });
});
