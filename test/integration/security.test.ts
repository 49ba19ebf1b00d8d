/**
 * The sandbox, tried against the real engine from the outside (inspect fields)
 * and from the inside (what a command can and cannot do).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineKind, engineSuite, hasEngine, underGvisor } from './setup.js';
import { bindableDir, chownTree } from '../helpers/aca.js';
import { TEST_IMAGE, TEST_LABEL, inspectSession, sessionExists, testEngine } from '../helpers/engine.js';

const { aca, runId, workspace } = engineSuite();
const state = mkdtempSync(join(tmpdir(), 'aca-state-'));
const env = { XDG_STATE_HOME: state };
const run = (args: string[], command: string[], extra: Record<string, string> = {}) =>
  aca(['run', '--image', TEST_IMAGE, ...args, '--', ...command], { env: { ...env, ...extra } });
const auditLines = async (session: string) => {
  const result = await aca(['audit', '--session', session, '--json'], { env });
  return result.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** The text of a multiplexed log stream. */
function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length; at += 8 + raw.readUInt32BE(at + 4)) parts.push(raw.subarray(at + 8, at + 8 + raw.readUInt32BE(at + 4)));
  return Buffer.concat(parts).toString('utf8');
}

describe.skipIf(!hasEngine)('the default profile', () => {
  const name = `prof-${runId}`;
  afterAll(async () => { await aca(['rm', '-f', name], { env }); });

  it('is visible in inspect: read-only root, sized tmpfs, limits, private namespaces, an isolated network with icc off', async () => {
    expect((await run(['-d', '--name', name, '--memory', '256m', '--pids', '128'], [])).exitCode).toBe(0);
    const info = await inspectSession(name);
    const h = info.HostConfig as Record<string, any>;
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.Tmpfs['/tmp']).toMatch(/nosuid/);
    expect(h.Tmpfs['/tmp']).toMatch(/size=\d+/);
    expect(h.Tmpfs['/run']).toMatch(/nosuid.*size=\d+/);
    expect(h.Memory).toBe(256 * 1024 * 1024);
    expect(h.MemorySwap).toBe(h.Memory);
    expect(h.PidsLimit).toBe(128);
    expect(h.NanoCpus).toBeGreaterThan(0);
    expect(h.Ulimits.map((u: { Name: string }) => u.Name).sort()).toEqual(['nofile', 'nproc']);
    expect(h.CapDrop).toEqual(['ALL']);
    expect(h.CapAdd ?? []).toEqual([]);
    expect(h.Privileged).toBe(false);
    expect(h.SecurityOpt).toContain('no-new-privileges:true');
    expect(JSON.stringify(h.SecurityOpt)).not.toMatch(/unconfined/);
    for (const mode of ['PidMode', 'UTSMode', 'UsernsMode']) expect(h[mode] ?? '').not.toBe('host');
    // Podman calls a private, joinable IPC namespace "shareable"; either way it is not the host's.
    expect(engineKind === 'podman' ? ['private', 'shareable'] : ['private']).toContain(h.IpcMode);
    expect(h.RestartPolicy.Name).toBe('no');
    // Docker: the shared bridge with icc off. Podman ignores icc, so each session has its own network there.
    const expected = engineKind === 'podman' ? `aca-${name}` : 'aca-isolated';
    expect(h.NetworkMode).toBe(expected);
    for (const m of info.Mounts as Array<{ Propagation?: string }>) expect(m.Propagation ?? '').not.toMatch(/shared/);
    const network = (await (await testEngine()).http.json('GET', `/networks/${expected}`)) as { Options?: Record<string, string>; Labels: Record<string, string> };
    if (engineKind === 'docker') expect(network.Options!['com.docker.network.bridge.enable_icc']).toBe('false');
    expect(network.Labels['aca.managed']).toBe('true');
  });

  it('scores clean against the CIS container-runtime checks', async () => {
    const result = await aca(['inspect', name, '--security', '--json'], { env });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.cis.checks.filter((c: { status: string }) => c.status === 'warn')).toEqual([]);
    expect(report.rootFilesystem).toBe('read-only');
    expect(report.network.interContainer).toBe(false);
    const text = await aca(['inspect', name, '--security'], { env });
    expect(text.stdout).toMatch(/5\.13\s+Root filesystem mounted read-only\s+pass/);
    // Numbered as docker-bench-security v1.6.1 numbers CIS Docker Benchmark v1.6.0: 5.1 is swarm mode.
    expect(text.stdout).toMatch(/5\.1\s+Swarm mode not enabled, if not needed\s+pass/);
    expect(text.stdout).toContain('CIS Docker Benchmark v1.6.0');
    expect(report.cis.benchmark).toMatch(/docker-bench-security v1\.6\.1/);
  });

  it('keeps sessions from reaching each other (inter-container traffic off)', async () => {
    const server = `srv-${runId}`;
    expect((await run(['-d', '--name', server], ['sh', '-c', 'mkdir -p /tmp/w && echo reached > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'])).exitCode).toBe(0);
    try {
      const info = await inspectSession(server);
      const networks = (info as unknown as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }).NetworkSettings.Networks;
      const address = Object.values(networks)[0]!.IPAddress;
      // The server answers itself (so it is up), but not a neighbour on the same network.
      const self = await aca(['exec', server, '--', 'sh', '-c', `for i in $(seq 50); do printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 1 127.0.0.1 8080 | grep -q reached && echo up && exit; sleep 0.1; done`], { env });
      expect(self.stdout).toBe('up\n');
      const neighbour = await run([], ['sh', '-c', `printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${address} 8080 | grep -q reached && echo reached || echo blocked`]);
      expect(neighbour.stdout).toBe('blocked\n');
    } finally {
      await aca(['rm', '-f', server], { env });
    }
  });
});

describe.skipIf(!hasEngine)('from the inside', () => {
  it('cannot write to /, can write to /tmp, $HOME and the workspace', async () => {
    const result = await run([], ['sh', '-c', 'touch /x 2>&1; test -e /x && echo created; echo t > /tmp/t && echo h > $HOME/h && echo w > /workspace/w && echo ok']);
    // gVisor checks the session user's permission on / before the read-only mount, so it says EACCES instead.
    expect(result.stdout).toMatch(underGvisor ? /^touch: \/x: Permission denied\n/ : /Read-only file system/);
    expect(result.stdout).not.toMatch(/created/);
    expect(result.stdout).toMatch(/ok\n$/);
  });

  // Under gVisor a fork bomb ends the whole session instead (its own threads count against the limit): gvisor.test.ts.
  it.skipIf(underGvisor)('stops a fork bomb at the pids limit', async () => {
    const result = await run(['--pids', '30'], ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo done; kill $(jobs -p) 2>/dev/null; exit 0']);
    expect(result.stderr).toMatch(/can't fork|Resource temporarily unavailable/i);
  });

  it('has no capabilities and private ulimits', async () => {
    const result = await run([], ['sh', '-c', 'grep CapEff /proc/self/status; ulimit -n; ulimit -u']);
    expect(result.stdout).toBe('CapEff:\t0000000000000000\n8192\n8192\n');
  });
});

describe.skipIf(!hasEngine)('refused escapes', () => {
  it.each([
    [['-v', '/var/run/docker.sock:/s'], /-v \/var\/run\/docker\.sock: refused: .*docker\.sock.*no container-engine sockets/],
    [['-v', '/etc:/host-etc:ro'], /-v \/etc: refused: \/etc \(rule: no host system directories\)/],
    [['-v', '/proc:/p'], /refused: \/proc .*no host system or runtime paths/],
    [['--cap-add', 'SYS_ADMIN'], /--cap-add SYS_ADMIN: refused/],
    [['--privileged'], /--privileged: refused/],
    [['--network', 'host'], /--network host: refused: .*host namespaces are never shared/],
  ])('%s is refused before anything is created', async (flags, message) => {
    const name = `refused-${runId}-${Math.random().toString(36).slice(2, 6)}`;
    const result = await run(['--name', name, ...flags], ['true']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(await sessionExists(name)).toBe(false);
    const networks = (await (await testEngine()).http.json('GET', '/networks', { query: { filters: JSON.stringify({ name: [`aca-${name}`] }) } })) as unknown[];
    expect(networks).toEqual([]);
    const audit = await auditLines(name);
    expect(audit).toMatchObject([{ action: 'create', outcome: 'refused' }]);
  });

  it('refuses a symlink to a credential store, even read-only, and a workspace that contains one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aca-home-'));
    mkdirSync(join(home, '.aws'));
    symlinkSync(join(home, '.aws'), join(workspace, `aws-link-${runId}`));
    const viaLink = await run([], ['true'], { HOME: home });
    // The workspace itself is fine; the link inside it points outside, where the session cannot follow it.
    expect(viaLink.exitCode, viaLink.stderr).toBe(0);
    const mounted = await run(['-v', `${join(workspace, `aws-link-${runId}`)}:/aws:ro`], ['true'], { HOME: home });
    expect(mounted.exitCode).toBe(2);
    expect(mounted.stderr).toMatch(/refused: .*\.aws .*resolves to .*no credential stores, not even read-only/);
    const homeAsWorkspace = await aca(['run', '--image', TEST_IMAGE, '--workspace', home, '--', 'true'], { env: { ...env, HOME: home } });
    expect(homeAsWorkspace.exitCode).toBe(2);
    expect(homeAsWorkspace.stderr).toMatch(/workspace .*: refused: .*\.ssh .*contains it/);
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses a socket that answers the Docker API, whatever its name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-sock-'));
    const http = await import('node:http');
    const server = http.createServer((_req, res) => { res.setHeader('Api-Version', '1.41'); res.end('OK'); });
    await new Promise<void>((done) => server.listen(join(dir, 'innocent.sock'), done));
    try {
      const result = await run(['-v', `${join(dir, 'innocent.sock')}:/s`], ['true']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/innocent\.sock answers the Docker Engine API \(rule: no container-engine sockets\)/);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts the whole .git read-only; --no-protect-git leaves it writable', async () => {
    const ws = bindableDir('aca-gitws-');
    mkdirSync(join(ws, '.git', 'objects'), { recursive: true });
    writeFileSync(join(ws, '.git', 'config'), '[core]\n');
    chownTree(ws);
    const script = 'mkdir -p .git/hooks 2>/dev/null && echo x > .git/hooks/pre-commit 2>/dev/null && echo hooks-writable; echo "[core] fsmonitor=evil" >> .git/config 2>/dev/null && echo config-writable; echo o > .git/objects/o 2>/dev/null && echo objects-writable; echo ok';
    const result = await aca(['run', '--image', TEST_IMAGE, '--workspace', ws, '--', 'sh', '-c', script], { env });
    expect(result.stdout).toBe('ok\n');
    const opted = await aca(['run', '--image', TEST_IMAGE, '--workspace', ws, '--no-protect-git', '--', 'sh', '-c', script], { env });
    expect(opted.stdout).toBe('hooks-writable\nconfig-writable\nobjects-writable\nok\n');
    rmSync(ws, { recursive: true, force: true });
  });
});

describe.skipIf(!hasEngine)('secrets', () => {
  const value = `sv-${runId}-9f8e7d`;
  const name = `secret-${runId}`;
  afterAll(async () => { await aca(['rm', '-f', name], { env }); });

  it('arrive as a 0400 file on tmpfs and, with --secret-env, in the command\'s environment only', async () => {
    const result = await run(['--secret', 'API_KEY', '--secret-env', 'OTHER=env:API_KEY', '--user', '1000:1000'],
      ['sh', '-c', 'stat -c "%a %u" /run/secrets/API_KEY; cat /run/secrets/API_KEY; echo; echo "$OTHER"; echo "[$API_KEY]"; grep /run/secrets /proc/mounts | cut -d" " -f3'],
      { API_KEY: value });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`400 1000\n${value}\n${value}\n[]\ntmpfs\n`);
    expect(result.stderr).not.toContain(value);
  });

  it('never appear in inspect, logs or the audit trail, and reach exec through the launcher', async () => {
    expect((await run(['-d', '--name', name, '--secret-env', 'API_KEY'], [], { API_KEY: value })).exitCode).toBe(0);
    const info = await inspectSession(name);
    const visible = JSON.stringify([info.Config, info.HostConfig, info.Mounts]);
    expect(visible).not.toContain(value);
    const exec = await aca(['exec', name, '--', 'sh', '-c', 'echo "$API_KEY"'], { env });
    expect(exec.stdout).toBe(`${value}\n`);
    const logs = await aca(['logs', name], { env });
    expect(logs.stdout + logs.stderr).not.toContain(value);
    const audit = await auditLines(name);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['create', 'exec']);
    expect(JSON.stringify(audit)).not.toContain(value);
  });

  it('an unset host variable is refused before anything is created', async () => {
    const result = await run(['--name', `nosecret-${runId}`, '--secret', 'NOT_SET_ANYWHERE'], ['true']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--secret NOT_SET_ANYWHERE: the host variable NOT_SET_ANYWHERE is not set/);
    expect(await sessionExists(`nosecret-${runId}`)).toBe(false);
  });
});

/**
 * Under gVisor (Debian's runsc with --network=host) busybox wget cannot read a proxied response ("Resource temporarily
 * unavailable", a gVisor fault outside aca), so this file's busybox clients are replaced there by the bash client of
 * gvisor.test.ts, which checks the same allow-list through the same proxy.
 */
describe.skipIf(!hasEngine || underGvisor)('egress allow-list', () => {
  const net = `acatest-${runId}`;
  let ip = '';
  beforeAll(async () => {
    const engine = await testEngine();
    await engine.http.json('POST', '/networks/create', { body: { Name: net, Labels: { [TEST_LABEL]: runId } } });
    const id = await engine.createContainer(`acatest-www-${runId}`, {
      Image: TEST_IMAGE, Cmd: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-from-allowed > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'],
      Env: [], Labels: { [TEST_LABEL]: runId }, User: '0', WorkingDir: '/', Tty: false, OpenStdin: false, StdinOnce: false,
      AttachStdin: false, AttachStdout: false, AttachStderr: false,
      HostConfig: { NetworkMode: net } as never,
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['allowed.test', 'denied.test', 'api.wild.test'] } } },
    } as never);
    await engine.startContainer(id);
    const info = (await engine.inspectContainer(id)) as unknown as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
    ip = info.NetworkSettings.Networks[net]!.IPAddress;
  }, 120_000);
  afterAll(async () => {
    const engine = await testEngine();
    for (const c of await engine.listContainers([`${TEST_LABEL}=${runId}`], true)) await engine.removeContainer(c.Id, { force: true });
    await engine.removeContainer(`aca-egress-${net}`, { force: true });
    await engine.http.json('DELETE', `/networks/${net}`).catch(() => {});
  });

  it('reaches an allowed host through the proxy; not a denied host, an IP literal, a wildcard to a private address, or anything directly', async () => {
    const script = [
      'wget -q -O- http://allowed.test/ && echo allowed-ok',
      'wget -q -O- http://denied.test/ 2>&1 | grep -o "403 Forbidden"',
      `wget -q -O- http://${ip}/ 2>&1 | grep -o "403 Forbidden"`,
      'wget -q -O- http://api.wild.test/ 2>&1 | grep -o "403 Forbidden"',
      `nc -w 2 ${ip} 80 </dev/null && echo direct-connected || echo direct-refused`,
      'nslookup allowed.test >/dev/null 2>&1 && echo dns-resolved || echo dns-failed',
      'env | grep -c -i "^https\\?_proxy="',
    ].join('; ');
    const result = await run(['--base', 'aca-test/debian:bookworm', '--allow-host', 'allowed.test', '--allow-host', '*.wild.test', '--egress-network', net],
      ['sh', '-c', script]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('hello-from-allowed\nallowed-ok\n403 Forbidden\n403 Forbidden\n403 Forbidden\ndirect-refused\ndns-failed\n4\n');
  }, 180_000);

  it('logs every decision, serves sessions with their own lists, and goes with the last session', async () => {
    const engine = await testEngine();
    const a = `eg-a-${runId}`;
    const b = `eg-b-${runId}`;
    expect((await run(['-d', '--name', a, '--allow-host', 'allowed.test', '--egress-network', net], [])).exitCode).toBe(0);
    expect((await run(['-d', '--name', b, '--allow-host', 'denied.test', '--egress-network', net], [])).exitCode).toBe(0);
    const fromA = await aca(['exec', a, '--', 'sh', '-c', 'wget -q -O- http://allowed.test/; wget -q -O- http://denied.test/ 2>&1 | grep -o 403'], { env });
    const fromB = await aca(['exec', b, '--', 'sh', '-c', 'wget -q -O- http://denied.test/; wget -q -O- http://allowed.test/ 2>&1 | grep -o 403'], { env });
    expect(fromA.stdout).toBe('hello-from-allowed\n403\n');
    expect(fromB.stdout).toBe('hello-from-allowed\n403\n');
    const raw: Buffer[] = [];
    for await (const chunk of await engine.logs(`aca-egress-${net}`, { follow: false })) raw.push(chunk as Buffer);
    const decisions = demux(Buffer.concat(raw)).split('\n').filter((l) => l.includes('decision')).map((l) => JSON.parse(l));
    expect(decisions.filter((d) => d.session === a).map((d) => `${d.host}:${d.decision}`)).toEqual(['allowed.test:allow', 'denied.test:deny']);
    expect(decisions.filter((d) => d.session === b).map((d) => `${d.host}:${d.decision}`)).toEqual(['denied.test:allow', 'allowed.test:deny']);
    expect((await aca(['rm', '-f', a], { env })).exitCode).toBe(0);
    expect((await engine.inspectContainer(`aca-egress-${net}`)).State.Running).toBe(true);
    expect((await aca(['rm', '-f', b], { env })).exitCode).toBe(0);
    await expect(engine.inspectContainer(`aca-egress-${net}`)).rejects.toThrow(/No such container|no container with name or ID/);
  }, 120_000);

  it('--network none still means no network at all', async () => {
    const result = await run(['--network', 'none'], ['sh', '-c', 'ls /sys/class/net | tr "\\n" " "']);
    expect(result.stdout).toBe('lo ');
  });
});

describe.skipIf(!hasEngine)('audit trail', () => {
  it('records --unsafe overrides, and reads back by session', async () => {
    const name = `unsafe-${runId}`;
    const result = await run(['--name', name, '--cap-add', 'NET_ADMIN', '--unsafe', '-e', 'TOKEN=abc123'], ['true']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: --unsafe: allowing cap-add=NET_ADMIN/);
    const [entry] = await auditLines(name);
    expect(entry).toMatchObject({ action: 'create', outcome: 'ok', unsafe: ['cap-add=NET_ADMIN'], session: name });
    expect(entry.args).toContain('TOKEN=***');
    expect(typeof entry.time).toBe('string');
    const table = await aca(['audit', '--since', '1h'], { env });
    expect(table.stdout).toContain(name);
  });
});
