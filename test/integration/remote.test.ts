/**
 * Remote engines, for real: a second dockerd with TLS on 127.0.0.1, an engine
 * reached over ssh through a local sshd, Docker contexts pointing at them, and
 * the errors for hosts that cannot be reached. The engines are started here and
 * removed in afterAll. They are Docker engines whatever the suite's engine, so
 * they are tested once, in the Docker pass.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aca as acaRaw } from '../helpers/aca.js';
import { TEST_IMAGE, TEST_LABEL } from '../helpers/engine.js';
import { freePort, makeCertificates, missingTools, startRemoteEngines, startTlsEngine, type SshEngine, type TlsEngine } from '../helpers/remote-engines.js';
import { engineKind, engineSuite, hasEngine } from './setup.js';

// The remote engines need host tools a machine with only Docker may lack (sshd, openssl): skip loudly, fail in CI.
const missing = hasEngine && engineKind === 'docker' ? missingTools() : [];
if (missing.length > 0) {
  const what = `the remote-engine tests need ${missing.join(', ')} on this machine (Debian: apt-get install openssh-server openssl iproute2)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${what}`);
  process.stderr.write(`\n*** remote.test.ts SKIPPED: ${what}\n\n`);
}
const dockerPass = hasEngine && engineKind === 'docker' && missing.length === 0;
if (hasEngine && engineKind !== 'docker') {
  process.stderr.write(`\n*** remote.test.ts SKIPPED in the ${engineKind} pass: its remote engines are Docker engines, tested in the Docker pass.\n\n`);
}

/** One error line naming the thing at fault, at most a hint line after it, no stack trace. */
function errorLines(stderr: string): string[] {
  expect(stderr).not.toMatch(/\n\s+at /);
  const lines = stderr.trim().split('\n');
  expect(lines.length).toBeLessThanOrEqual(2);
  return lines;
}

/** What a TLS engine leaves on the host while it runs: its processes, bridges, mounts and temp directories. */
function tlsEngineTraces(): string[] {
  const processes = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).flatMap((pid) => {
    try { return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')]; } catch { return []; }
  }).filter((cmd) => cmd.startsWith('/') && cmd.includes('dockerd') && cmd.includes(`${tmpdir()}/aca-tlsd-`));
  const bridges = execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).split('\n').filter((l) => / acatls/.test(l));
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(`${tmpdir()}/aca-tlsd-`));
  const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith('aca-tlsd-') || d.startsWith('aca-sshd-'));
  return [...processes, ...bridges, ...mounts, ...dirs];
}

describe.skipIf(!dockerPass)('remote engines: a set-up that fails half-way', () => {
  it('stops the engine that did start, and leaves no process, bridge, mount or directory', async () => {
    const before = tlsEngineTraces();
    // sshd counts as missing only for this call: the TLS engine starts, the ssh engine fails.
    process.env.ACA_TEST_HIDE_TOOLS = 'sshd';
    try {
      await expect(startRemoteEngines([TEST_IMAGE])).rejects.toThrow('sshd is not installed on this machine');
    } finally {
      delete process.env.ACA_TEST_HIDE_TOOLS;
    }
    expect(tlsEngineTraces()).toEqual(before);
  }, 120_000);
});

describe.skipIf(!dockerPass)('remote engines: stopping one', () => {
  it('removes the bridges of the networks it made: left in the kernel, their routes would take address pools from every dockerd', async () => {
    const engine = await startTlsEngine([]);
    let bridge = '';
    try {
      const id = execFileSync('docker', ['-H', `unix://${engine.socket}`, 'network', 'create', `aca-test-stop-${randomBytes(3).toString('hex')}`], { encoding: 'utf8' }).trim();
      bridge = `br-${id.slice(0, 12)}`;
      expect(execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })).toContain(`: ${bridge}:`);
    } finally {
      await engine.stop();
    }
    expect(execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })).not.toContain(`: ${bridge}:`);
  }, 120_000);
});

describe.skipIf(!dockerPass)('remote engines', () => {
  const { aca, runId, workspace } = engineSuite();
  let tls: TlsEngine;
  let ssh: SshEngine;
  // Made only when the tests run: a skipped describe body still runs, and its afterAll does not.
  const scratch = dockerPass ? mkdtempSync(join(tmpdir(), 'aca-remote-')) : '';

  beforeAll(async () => {
    ({ tls, ssh } = await startRemoteEngines([TEST_IMAGE]));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([tls?.stop(), ssh?.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  const tlsEnv = () => ({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.certs });
  const tlsHost = () => `tcp://127.0.0.1:${tls.port}`;
  const sshEnv = () => ({ PATH: `${ssh.bin}:${process.env.PATH}` });
  /** Containers of this file on the TLS engine, asked through its own unix socket. */
  const onTlsEngine = () => execFileSync('docker', ['-H', `unix://${tls.socket}`, 'ps', '-aq', '--filter', `label=${TEST_LABEL}=${runId}`], { encoding: 'utf8' }).trim();

  it('runs, pipes stdin and execs on a TLS engine named by DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
    const env = tlsEnv();
    const run = await aca(['--host', tlsHost(), 'run', '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    expect(run).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    const piped = await aca(['--host', tlsHost(), 'run', '-i', '--no-workspace', '--image', TEST_IMAGE, '--', 'cat'], { env, input: 'through tls\n' });
    expect(piped.stdout).toBe('through tls\n');

    const name = `tls-${runId}`;
    const started = await aca(['--host', tlsHost(), 'run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE], { env });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(onTlsEngine()).not.toBe('');
    const exec = await aca(['--host', tlsHost(), 'exec', name, '--', 'sh', '-c', 'echo in-exec; exit 7'], { env });
    expect(exec).toMatchObject({ exitCode: 7, stdout: 'in-exec\n' });
    // The local engine knows nothing of it.
    expect((await aca(['ps', '-a', '--format', '{{.Name}}'])).stdout).not.toContain(name);
    expect((await aca(['--host', tlsHost(), 'rm', '-f', name], { env })).exitCode).toBe(0);
    expect(onTlsEngine()).toBe('');
  });

  it('takes --tlscacert/--tlscert/--tlskey, and builds over TLS', async () => {
    const context = join(scratch, 'build');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCOPY . /ctx\nRUN test -f /ctx/kept && test ! -e /ctx/ignored\n`);
    writeFileSync(join(context, 'kept'), 'x');
    writeFileSync(join(context, 'ignored'), 'x');
    writeFileSync(join(context, '.dockerignore'), 'ignored\n');
    const flags = ['--host', tlsHost(), '--tlscacert', join(tls.certs, 'ca.pem'), '--tlscert', join(tls.certs, 'cert.pem'), '--tlskey', join(tls.certs, 'key.pem')];
    const tag = `aca-test/remote-build:${runId}`;
    const built = await acaRaw([...flags, 'build', '-f', 'Dockerfile', '-t', tag, '.'], { cwd: context });
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stdout.trim()).toBe(tag);
    const labels = execFileSync('docker', ['-H', `unix://${tls.socket}`, 'image', 'inspect', '--format', '{{json .Config.Labels}}', tag], { encoding: 'utf8' });
    expect(JSON.parse(labels)).toMatchObject({ 'aca.managed': 'true' });
    const ps = await acaRaw([...flags, 'ps', '--json']);
    expect(ps.exitCode, ps.stderr).toBe(0);
    // aca doctor knows the engine is remote; without aca's base image there, its free disk is unknown.
    const doctor = await acaRaw([...flags, 'doctor', '--json']);
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; data?: Record<string, unknown> }> }).checks;
    expect(checks.find((c) => c.name === 'engine version')!.data).toMatchObject({ kind: 'docker', remote: true });
    expect(checks.find((c) => c.name === 'disk')!.status).toBe('warn');
  });

  it('follows Docker contexts: --context, DOCKER_CONTEXT and the current context', async () => {
    const config = join(scratch, 'docker-config');
    mkdirSync(config, { recursive: true });
    const c = tls.certs;
    // Made by the docker CLI itself, so aca reads the store exactly as docker writes it.
    execFileSync('docker', ['context', 'create', 'aca-tls', '--docker', `host=${tlsHost()},ca=${c}/ca.pem,cert=${c}/cert.pem,key=${c}/key.pem`], { env: { ...process.env, DOCKER_CONFIG: config }, stdio: 'pipe' });
    const name = `ctx-${runId}`;
    const env = { DOCKER_CONFIG: config };
    const started = await aca(['--context', 'aca-tls', 'run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE], { env });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(onTlsEngine()).not.toBe('');
    expect((await aca(['ps', '--format', '{{.Name}}'], { env: { ...env, DOCKER_CONTEXT: 'aca-tls' } })).stdout).toContain(name);
    execFileSync('docker', ['context', 'use', 'aca-tls'], { env: { ...process.env, DOCKER_CONFIG: config }, stdio: 'pipe' });
    expect((await aca(['ps', '--format', '{{.Name}}'], { env })).stdout).toContain(name);
    // --engine podman looks for Podman, not at docker's current context; DOCKER_HOST beats the current context.
    expect((await aca(['ps', '--format', '{{.Name}}'], { env: { ...env, DOCKER_HOST: 'unix:///var/run/docker.sock' } })).stdout).not.toContain(name);
    const missing = await aca(['--context', 'no-such-context', 'ps'], { env });
    expect(missing.exitCode).toBe(2);
    expect(errorLines(missing.stderr)[0]).toMatch(/^aca: --context: no Docker context named "no-such-context"/);
    expect((await aca(['rm', '-f', name], { env })).exitCode).toBe(0);
  });

  it('copies the workspace into a remote engine, and never binds a host path there', async () => {
    writeFileSync(join(workspace, 'hello.txt'), 'from the host\n');
    const env = tlsEnv();
    const run = await aca(['--host', tlsHost(), 'run', '--image', TEST_IMAGE, '--', 'cat', '/workspace/hello.txt'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('from the host\n');
    expect(run.stderr).toContain(`the engine at ${tlsHost()} is remote: the workspace is copied in`);

    const bind = await aca(['--host', tlsHost(), 'run', '-v', `${scratch}:/data`, '--image', TEST_IMAGE, '--', 'true'], { env });
    expect(bind.exitCode).toBe(2);
    expect(errorLines(bind.stderr)[0]).toBe(`aca: -v: cannot mount ${scratch}: the engine at ${tlsHost()} is remote and does not have this machine's files`);
    const mode = await aca(['--host', tlsHost(), 'run', '--workspace-mode', 'bind', '--image', TEST_IMAGE, '--', 'true'], { env });
    expect(mode.exitCode).toBe(2);
    expect(errorLines(mode.stderr)[0]).toMatch(/^aca: --workspace-mode: cannot bind the workspace: the engine at .* is remote/);
    expect(onTlsEngine()).toBe('');
  });

  it('runs, execs and builds over ssh through the system ssh client', async () => {
    const env = sshEnv();
    const run = await aca(['--host', ssh.url, 'run', '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo over-ssh; exit 4'], { env });
    expect(run, run.stderr).toMatchObject({ exitCode: 4, stdout: 'over-ssh\n' });
    const name = `ssh-${runId}`;
    expect((await aca(['--host', ssh.url, 'run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE], { env })).exitCode).toBe(0);
    const blob = randomBytes(256 * 1024).toString('base64');
    const exec = await aca(['--host', ssh.url, 'exec', '-i', name, '--', 'cat'], { env, input: blob });
    expect(exec.exitCode).toBe(0);
    expect(exec.stdout).toBe(blob);
    const context = join(scratch, 'ssh-build');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /over-ssh\n`);
    const tag = `aca-test/ssh-build:${runId}`;
    const built = await acaRaw(['--host', ssh.url, 'build', '-f', 'Dockerfile', '-t', tag, '.'], { cwd: context, env });
    try {
      expect(built.exitCode, built.stderr).toBe(0);
    } finally {
      execFileSync('docker', ['image', 'rm', '-f', tag], { stdio: 'ignore' });
    }
    expect((await aca(['--host', ssh.url, 'rm', '-f', name], { env })).exitCode).toBe(0);
  });

  it('names the host and the cause when an engine cannot be used', async () => {
    const closed = await freePort();
    const cases: Array<{ args: string[]; env?: Record<string, string>; error: RegExp }> = [
      { args: ['--host', `tcp://127.0.0.1:${closed}`], error: new RegExp(`tried tcp://127\\.0\\.0\\.1:${closed} \\(--host\\): connection refused$`) },
      { args: ['--host', 'tcp://no-such-host.invalid:2376'], error: /tried tcp:\/\/no-such-host\.invalid:2376 \(--host\): host not found$/ },
      { args: ['--host', tlsHost()], error: /\(--host\): the engine speaks TLS on this port; set DOCKER_TLS_VERIFY=1/ },
      { args: ['--host', `tcp://127.0.0.2:${tls.port}`], env: tlsEnv(), error: /tried tcp:\/\/127\.0\.0\.2:\d+ \(--host\): the engine's TLS certificate is for another host name \(.*127\.0\.0\.2.*\)$/ },
      { args: ['--host', `ssh://root@127.0.0.1:${closed}`], env: sshEnv(), error: new RegExp(`tried ssh://root@127\\.0\\.0\\.1:${closed} \\(--host\\): ssh root@127\\.0\\.0\\.1: ssh: connect to host 127\\.0\\.0\\.1 port ${closed}: Connection refused$`) },
    ];
    // A certificate from another CA.
    const other = join(scratch, 'other-ca');
    makeCertificates(other, { ca: 'some-other-ca' });
    cases.push({ args: ['--host', tlsHost(), '--tlscacert', join(other, 'ca.pem'), '--tlscert', join(tls.certs, 'cert.pem'), '--tlskey', join(tls.certs, 'key.pem')], error: /\(--host\): the engine's TLS certificate is not signed by the trusted CA/ });
    for (const { args, env, error } of cases) {
      const result = await aca([...args, 'ps'], { ...(env ? { env } : {}) });
      expect(result.exitCode, result.stderr).toBe(125);
      expect(errorLines(result.stderr)[0]).toMatch(/^aca: no container engine answered; /);
      expect(errorLines(result.stderr)[0]).toMatch(error);
    }
    const run = await aca(['--host', `tcp://127.0.0.1:${closed}`, 'run', '--no-workspace', '--image', TEST_IMAGE, '--', 'true']);
    expect(run.exitCode).toBe(125);
  });

  it('says when a host takes the connection but never answers', async () => {
    // A listener that accepts and stays silent, like a firewalled or hung engine.
    const silent = createServer((socket) => { socket.on('error', () => {}); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const result = await aca(['--host', `tcp://127.0.0.1:${port}`, 'ps']);
      expect(result.exitCode).toBe(125);
      expect(errorLines(result.stderr)[0]).toBe(`aca: no container engine answered; tried tcp://127.0.0.1:${port} (--host): timed out (no answer within 15 s)`);
    } finally {
      silent.close();
    }
  }, 40_000);
});
