import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCapabilities, normaliseCapability } from '../../src/security/capabilities.js';
import { checkMountSource, refusalFor, type MountFacts } from '../../src/security/mounts.js';
import { parseSecret, withLauncher, launcherScript, execLauncher } from '../../src/security/secrets.js';
import { maskArgs } from '../../src/audit.js';
import { parseAllowHost } from '../../src/security/egress.js';
import { scoreCis } from '../../src/security/cis.js';
import { createBody } from '../../src/sessions/spec.js';
import { resolveSecurity } from '../../src/security/resolve.js';
// The proxy's own rules, plain JavaScript shipped in container/egress.
// @ts-expect-error no type declarations for the shipped .mjs
import { blockedRange, decideName, matchAllow, parseAllowEntry, pickAddress } from '../../container/egress/rules.mjs';

const facts: MountFacts = { homes: ['/home/u'], engineSockets: ['/run/docker.sock', '/var/run/docker.sock', '/srv/engine/podman.sock'] };

describe('mount rules', () => {
  it.each([
    ['/', 'no host system directories'], ['/etc', 'no host system directories'], ['/usr', 'no host system directories'],
    ['/proc/1', 'no host system or runtime paths'], ['/sys', 'no host system or runtime paths'], ['/dev/sda', 'no host system or runtime paths'],
    ['/boot', 'no host system or runtime paths'], ['/run', 'no container-engine sockets; /run contains it'], ['/var/run', 'no container-engine sockets'],
    ['/lib', 'no host system directories'], ['/run/docker.sock', 'no container-engine sockets'], ['/tmp/x/containerd.sock', 'no container-engine sockets'],
    ['/home/u/.ssh', 'no credential stores'], ['/home/u/.aws/credentials', 'no credential stores'], ['/home/u/.config/gcloud', 'no credential stores'],
    ['/home/u/.kube', 'no credential stores'], ['/home/u/.docker', 'no credential stores'], ['/home/u/.gnupg', 'no credential stores'],
    ['/home/u', 'contains it'], ['/var', 'no host system directories'], ['/var/lib/docker/volumes', 'no host system or runtime paths'],
    ['/srv/engine', 'no container-engine sockets; /srv/engine contains it'],
  ])('refuses %s', (path, rule) => {
    expect(refusalFor(path, facts)?.rule).toContain(rule);
  });

  it.each(['/home/u/src/project', '/tmp/work', '/srv/data', '/etc-not', '/home/u/.sshkeys-notes'])('allows %s', (path) => {
    expect(refusalFor(path, facts)).toBeUndefined();
  });

  it('resolves symlinks before checking, and names both paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-mnt-'));
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    symlinkSync(join(home, '.ssh'), join(dir, 'innocent'));
    expect(() => checkMountSource(join(dir, 'innocent'), '-v x', { homes: [home], engineSockets: [] })).toThrow(
      new RegExp(`-v x: refused: .*\\.ssh .*resolves to .*rule: no credential stores`),
    );
    symlinkSync('/etc', join(dir, 'etc-link'));
    expect(() => checkMountSource(join(dir, 'etc-link'), '-v y', facts)).toThrow(/refused: \/etc .*no host system directories/);
  });
});

describe('capabilities', () => {
  it('normalises names and refuses unknown ones', () => {
    expect(normaliseCapability('cap_net_bind_service')).toBe('NET_BIND_SERVICE');
    expect(() => normaliseCapability('FLY')).toThrow(/--cap-add: unknown capability "FLY"/);
  });
  it.each(['SYS_ADMIN', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_PTRACE', 'DAC_READ_SEARCH', 'SYS_TIME', 'NET_ADMIN', 'BPF', 'PERFMON', 'ALL'])(
    'refuses %s without --unsafe and allows it with',
    (cap) => {
      expect(() => checkCapabilities([cap], false)).toThrow(new RegExp(`--cap-add ${cap}: refused.*need --unsafe`));
      expect(checkCapabilities([cap], true).overridden).toEqual([cap]);
    },
  );
  it('allows harmless capabilities without --unsafe', () => {
    expect(checkCapabilities(['net_bind_service', 'CHOWN'], false)).toEqual({ caps: ['NET_BIND_SERVICE', 'CHOWN'], overridden: [] });
  });
});

describe('secrets', () => {
  it('parses references, never values', () => {
    expect(parseSecret('TOKEN', '/w')).toEqual({ name: 'TOKEN', source: { kind: 'env', variable: 'TOKEN' } });
    expect(parseSecret('T=env:OTHER', '/w')).toEqual({ name: 'T', source: { kind: 'env', variable: 'OTHER' } });
    expect(parseSecret('T=file:key.txt', '/w')).toEqual({ name: 'T', source: { kind: 'file', path: '/w/key.txt' } });
    expect(() => parseSecret('T=hunter2', '/w')).toThrow(/never goes on the command line/);
    expect(() => parseSecret('9bad', '/w')).toThrow(/invalid secret name/);
  });
  it('wraps the command with a launcher that carries the image defaults', () => {
    const body = withLauncher({ Cmd: [] as string[] }, { Entrypoint: ['/entry'], Cmd: ['bash', '-l'] }, ['K']);
    expect(body.Entrypoint!.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(body.Entrypoint!.slice(3)).toEqual(['aca-launch', '/entry']);
    expect(body.Cmd).toEqual(['bash', '-l']);
    expect(launcherScript(['K'])).toContain('K=$(cat /run/secrets/K) && export K');
    expect(execLauncher([], ['ls'])).toEqual(['ls']);
    // A checkpoint image's entrypoint is the launcher already: wrapped once, not twice (the second gate would never open).
    const again = withLauncher({ Cmd: [] as string[] }, { Entrypoint: body.Entrypoint!, Cmd: ['bash', '-l'] }, ['K']);
    expect(again.Entrypoint).toEqual(body.Entrypoint);
  });
});

describe('audit masking', () => {
  it('masks -e values, secret-looking assignments and known secret values', () => {
    expect(maskArgs(['run', '-e', 'A=1', '--env=B=2', 'API_TOKEN=xyz', 'PLAIN=ok', 'echo', 'the-secret-value'], ['the-secret-value'])).toEqual([
      'run', '-e', 'A=***', '--env=B=***', 'API_TOKEN=***', 'PLAIN=ok', 'echo', '***',
    ]);
  });
});

describe('egress rules', () => {
  it('validates --allow-host', () => {
    expect(parseAllowHost('API.example.com:8443')).toBe('api.example.com:8443');
    expect(() => parseAllowHost('10.0.0.1')).toThrow(/IP address/);
    expect(() => parseAllowHost('http://x')).toThrow(/invalid host/);
  });
  it('accepts exactly the --allow-host entries the proxy accepts (the rules are written twice: CLI and proxy)', () => {
    const entries = ['example.com', '*.example.com', 'a.b-c.d:8443', 'x:0', 'x:65536', 'x:65535', '10.0.0.1', '[::1]:443', '*.10.0.0.1',
      'http://x', '-a.com', 'a-.com', '*.', '*', 'a..b', 'under_score.io', 'UPPER.Example.COM', ' spaced.com ', 'a.com:', 'a.com:443x'];
    for (const entry of entries) {
      let cli = true;
      try { parseAllowHost(entry); } catch { cli = false; }
      expect(cli, entry).toBe(parseAllowEntry(entry) !== undefined);
    }
  });
  it('matches exact names, *.suffix subdomains and ports', () => {
    const entries = ['example.com', '*.npmjs.org', 'git.corp:8443'].map(parseAllowEntry);
    expect(matchAllow(entries, 'example.com', 443)).toBeTruthy();
    expect(matchAllow(entries, 'example.com', 8080)).toBeUndefined();
    expect(matchAllow(entries, 'registry.npmjs.org', 443)).toBeTruthy();
    expect(matchAllow(entries, 'npmjs.org', 443)).toBeUndefined();
    expect(matchAllow(entries, 'git.corp', 8443)).toBeTruthy();
    expect(matchAllow(entries, 'git.corp', 443)).toBeUndefined();
    expect(decideName(entries, '93.184.216.34', 443)).toMatchObject({ allow: false, reason: expect.stringContaining('IP literals') });
    expect(decideName(entries, '[::1]', 443)).toMatchObject({ allow: false });
    expect(decideName(entries, 'example.com', 22)).toMatchObject({ allow: false, reason: expect.stringContaining('port 22') });
    expect(decideName(entries, 'evil.com', 443)).toMatchObject({ allow: false, reason: expect.stringContaining('not on the allow-list') });
    expect(decideName(entries, 'a.npmjs.org', 443)).toMatchObject({ allow: true, explicit: false });
  });
  it('refuses private, loopback, link-local and metadata addresses unless the name was explicit', () => {
    for (const ip of ['10.1.2.3', '127.0.0.1', '169.254.169.254', '172.20.0.2', '192.168.1.1', '::1', 'fe80::1', 'fd00:ec2::254', '::ffff:10.0.0.1', '100.100.100.200']) {
      expect(blockedRange(ip)).toBeDefined();
      expect(pickAddress([ip], false).address).toBeUndefined();
      expect(pickAddress([ip], true).address).toBe(ip);
    }
    expect(blockedRange('93.184.216.34')).toBeUndefined();
    expect(pickAddress(['2606:2800::1', '93.184.216.34'], false).address).toBe('93.184.216.34');
    expect(pickAddress(['93.184.216.34', '10.0.0.1'], false).reason).toContain('10.0.0.1');
  });
});

describe('the default profile', () => {
  const spec = {
    name: 's', image: 'i', command: ['true'], env: [], volumes: [], labels: {}, ports: [], user: '1000:1000', network: 'aca-s',
    memory: 512 * 1024 * 1024, nanoCpus: 1e9, pids: 100, interactive: false, tty: false, detach: false, ownership: {},
    workspace: { hostPath: '/w', readOnly: false },
    protectedMounts: [{ source: '/w/.git/hooks', target: '/workspace/.git/hooks' }],
  };
  it('is hardened without being asked', () => {
    const h = createBody(spec as never).HostConfig;
    expect(h).toMatchObject({ ReadonlyRootfs: true, Privileged: false, CapDrop: ['ALL'], CapAdd: [], IpcMode: 'private', CpuShares: 512, PidsLimit: 100 });
    expect(h.MemorySwap).toBe(h.Memory);
    expect(h.Tmpfs['/tmp']).toMatch(/nosuid.*size=\d+.*mode=1777/);
    expect(h.Tmpfs['/run']).toMatch(/nosuid.*size=\d+/);
    expect(h.Ulimits!.map((u) => u.Name)).toEqual(['nofile', 'nproc']);
    expect(h.Binds).toContain('/w/.git/hooks:/workspace/.git/hooks:ro');
    expect(h.SecurityOpt.join(' ')).not.toMatch(/unconfined/);
  });
  it('relaxes only what was asked, and labels it', () => {
    const body = createBody({ ...spec, security: { writableRoot: true, capAdd: ['NET_BIND_SERVICE'], privileged: false, unsafe: false, secrets: true } } as never);
    expect(body.HostConfig.ReadonlyRootfs).toBe(false);
    expect(body.HostConfig.Tmpfs['/tmp']).toBeUndefined();
    expect(body.HostConfig.Tmpfs['/run/secrets']).toMatch(/uid=1000,gid=1000,mode=0700/);
    expect(body.Labels['aca.security.relaxed']).toBe('writable-root,cap-add=NET_BIND_SERVICE');
  });
  it('labels --no-protect-git as a relaxation, as the audit trail records it', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'aca-gitlabel-'));
    mkdirSync(join(ws, '.git'));
    const plan = await resolveSecurity({ flags: { protectGit: false }, file: {}, cwd: ws, env: {}, workspace: { hostPath: ws, bound: true, readOnly: false }, volumes: [] });
    expect(plan.relaxed).toEqual(['no-protect-git']);
    expect(createBody({ ...spec, security: plan.security } as never).Labels['aca.security.relaxed']).toBe('no-protect-git');
  });
  it('scores a default session clean against CIS 5.x', () => {
    const body = createBody(spec as never);
    const checks = scoreCis({
      HostConfig: body.HostConfig as never, Mounts: [{ Type: 'bind', Source: '/w', Destination: '/workspace', RW: true, Propagation: 'rprivate' }],
      Config: { User: body.User, Labels: {} }, NetworkSettings: { Networks: { 'aca-s': {} } }, engine: { apparmor: false, selinux: false, seccomp: true },
    });
    expect(checks.filter((c) => c.status === 'warn')).toEqual([]);
    expect(checks.map((c) => c.id)).toHaveLength(32);
    // Numbered as docker-bench-security v1.6.1 does: 5.1 is swarm mode, 5.32 the engine socket.
    expect(checks[0]).toMatchObject({ id: '5.1', title: expect.stringMatching(/swarm/i), status: 'pass' });
    expect(checks.find((c) => c.id === '5.2')!.title).toMatch(/AppArmor/);
    expect(checks.find((c) => c.id === '5.32')!.title).toMatch(/socket/);
  });
});
