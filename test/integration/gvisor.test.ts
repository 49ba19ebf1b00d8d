import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE, TEST_LABEL, inspectSession, sessionExists, testEngine } from '../helpers/engine.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

/**
 * Sessions under gVisor, on the real runsc. Outside CI the file is skipped with a loud notice where the engine
 * does not offer gVisor; in CI (.ci/run registers runsc with Docker through `aca doctor --fix`) it must run.
 */
const gvisor = await (async () => {
  if (!hasEngine) return false;
  const { usableGvisorRuntime } = await import('../../dist/src/engine/info.js');
  return engineKind === 'docker' && usableGvisorRuntime(await (await testEngine()).systemInfo(), true) !== undefined;
})();
if (hasEngine && !gvisor) {
  if (process.env.CI === 'true' && engineKind === 'docker') throw new Error('CI=true but Docker does not offer gVisor (runsc): .ci/run registers it');
  process.stderr.write(`\n*** gVisor is not registered with this ${engineKind} engine: the gVisor tests are SKIPPED (aca doctor shows the steps).\n\n`);
}

// gVisor's ptrace platform is slow to start a sandbox on a loaded machine: each test gets three minutes.
describe.skipIf(!gvisor)('gVisor isolation', { timeout: 180_000 }, () => {
  const { aca, runId } = engineSuite();
  const stateDir = mkdtempSync(join(tmpdir(), 'aca-gv-state-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const env = { XDG_STATE_HOME: stateDir };

  it('runs a session on gVisor\'s kernel with --isolation gvisor, and shows it in ps, inspect and the audit trail', async () => {
    const name = `gv-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--isolation', 'gvisor', '--image', TEST_IMAGE, '--no-workspace'], { env }));
    const kernel = await aca(['exec', name, '--', 'uname', '-r'], { env });
    expect(kernel.stdout).toBe('4.4.0\n'); // gVisor's user-space kernel says so
    expect((await inspectSession(name)).HostConfig.Runtime).toBe('runsc');
    const ps = JSON.parse((await aca(['ps', '--json'], { env })).stdout) as Array<{ name: string; isolation: string }>;
    expect(ps.find((s) => s.name === name)?.isolation).toBe('gvisor');
    expect((await aca(['inspect', '--security', name], { env })).stdout).toMatch(/^isolation +gvisor \(gVisor's user-space kernel, runtime runsc\)$/m);
    const audit = readFileSync(join(stateDir, 'aca', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { session: string; action: string; isolation?: string });
    expect(audit.find((e) => e.session === name && e.action === 'create')?.isolation).toBe('gvisor');
  });

  it('auto picks gVisor where Docker offers it; container keeps the host kernel', async () => {
    const auto = await aca(['run', '--image', TEST_IMAGE, '--no-workspace', '--', 'uname', '-r'], { env: { ...env, ACA_ISOLATION: 'auto' } });
    expectOk(auto);
    expect(auto.stdout).toBe('4.4.0\n');
    const container = await aca(['run', '--isolation', 'container', '--image', TEST_IMAGE, '--no-workspace', '--', 'uname', '-r'], { env: { ...env, ACA_ISOLATION: 'gvisor' } });
    expectOk(container);
    expect(container.stdout).not.toBe('4.4.0\n');
  });

  it('reports an out-of-memory kill, which under gVisor ends the whole session', async () => {
    const result = await aca(['run', '--isolation', 'gvisor', '--memory', '64m', '--image', TEST_IMAGE, '--no-workspace', '--', 'sh', '-c', 'head -c 300m /dev/zero | tail > /dev/null; echo survived'], { env });
    expect(result.exitCode).toBe(137);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/out of memory/);
  });

  it('contains a fork bomb: the session ends at the pids limit instead of failing forks inside', async () => {
    const result = await aca(['run', '--isolation', 'gvisor', '--pids', '128', '--image', TEST_IMAGE, '--no-workspace', '--', 'sh', '-c', 'i=0; while [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done; echo all-forked'], { env, timeout: 90_000 });
    expect(result.stdout).not.toContain('all-forked');
    expect(result.exitCode).not.toBe(0);
  });

  it('refuses a pids limit too low for gVisor\'s own threads, before anything is created', async () => {
    // With --pids 77 the sandbox used to die while aca delivered the CA bundle ("urpc method ... failed: EOF").
    const name = `gv-pids-${runId}`;
    const result = await aca(['run', '--name', name, '--isolation', 'gvisor', '--pids', '77', '--image', TEST_IMAGE, '--no-workspace', '--', 'true'], { env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^aca: --pids 77: too low under gVisor, whose own threads count against the limit .*use at least 128/);
    expect(await sessionExists(name)).toBe(false);
  });

  it('delivers secrets and keeps stdin, exit codes and the workspace working', async () => {
    const result = await aca(['run', '-i', '--isolation', 'gvisor', '--secret-env', 'GV_TOKEN', '--image', TEST_IMAGE, '--', 'sh', '-c', 'cat; test "$GV_TOKEN" = s3cret && ls /workspace >/dev/null && exit 7'], { env: { ...env, GV_TOKEN: 's3cret' }, input: 'through stdin\n' });
    expect(result.stdout).toBe('through stdin\n');
    expect(result.exitCode).toBe(7);
  });

  it('ends a run whose command finishes as soon as its secrets let it start (the engine drops that gate exec\'s stream)', async () => {
    // The gate exec that starts the command is still ending when `true` ends the session; under gVisor Docker then
    // forgets the exec without closing its stream. Each run hung about every second time before aca stopped
    // waiting on the stream alone (src/engine/exec-end.ts).
    for (let i = 0; i < 4; i++) {
      const result = await aca(['run', '--isolation', 'gvisor', '--secret-env', 'GV_TOKEN', '--image', TEST_IMAGE, '--no-workspace', '--', 'true'], { env: { ...env, GV_TOKEN: 's3cret' }, timeout: 40_000 });
      expect(result.exitCode, result.stderr).toBe(0);
    }
  });

  it('ends an exec whose session stops as it ends: its exit code (137 if the sandbox killed it), or one line saying the engine dropped it', async () => {
    // Docker forgets the exec without closing its stream when the gVisor session stops first (src/engine/exec-end.ts).
    // The session spins until the file appears, so it stops while `touch` is still ending: about one exec in four
    // was dropped on a quiet machine, and waited on for ever before.
    for (let i = 0; i < 5; i++) {
      const name = `gv-race-${i}-${runId}`;
      expectOk(await aca(['run', '-d', '--name', name, '--isolation', 'gvisor', '--image', TEST_IMAGE, '--no-workspace', '--', 'sh', '-c', 'while [ ! -e /tmp/go ]; do :; done'], { env }));
      const result = await aca(['exec', name, '--', 'touch', '/tmp/go'], { env, timeout: 40_000 });
      // runsc kills what is left in the sandbox as it stops: `touch`, still ending, may be reported killed (137) by
      // the engine itself, which aca passes on like any exit code.
      if (result.exitCode === 137) expect(result.stderr).toBe('');
      else if (result.exitCode !== 0) {
        expect(result.exitCode, result.stderr).toBe(125);
        // runsc may say first that the sandbox went away under it (its control server gone, or the sandbox no longer
        // running, as the race falls): the engine's own line, passed through.
        const lines = result.stderr.trimEnd().split('\n');
        expect(lines.at(-1)).toBe(`aca: ${name} stopped while the command was ending, and the engine dropped the command without its exit code`);
        for (const line of lines.slice(0, -1)) expect(line).toMatch(/connecting to control server at PID \d+: connection refused|waiting on pid \d+: sandbox is not running/);
      }
    }
  });

  it('keeps the egress allow-list: an allowed host through the proxy, a denied one refused, nothing direct', async () => {
    // bash's /dev/tcp reads with blocking calls; busybox wget cannot read a proxied response under this gVisor (see security.test.ts).
    const engine = await testEngine();
    const net = `acatest-gv-${runId}`;
    await engine.http.json('POST', '/networks/create', { body: { Name: net, Labels: { [TEST_LABEL]: runId } } });
    try {
      const www = await engine.createContainer(`acatest-gv-www-${runId}`, {
        Image: TEST_IMAGE, Cmd: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-from-allowed > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'],
        Env: [], Labels: { [TEST_LABEL]: runId }, User: '0', WorkingDir: '/', Tty: false, OpenStdin: false, StdinOnce: false,
        AttachStdin: false, AttachStdout: false, AttachStderr: false, HostConfig: { NetworkMode: net } as never,
        NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['allowed.test', 'denied.test'] } } },
      } as never);
      await engine.startContainer(www);
      const ip = ((await engine.inspectContainer(www)) as unknown as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }).NetworkSettings.Networks[net]!.IPAddress;
      const script = [
        'P=${http_proxy#http://}',
        // gVisor's host network passthrough can hand a blocking read EAGAIN (a gVisor fault, see README): read on until EOF.
        'req() { exec 3<>"/dev/tcp/${P%:*}/${P##*:}" || return 9; printf "GET %s HTTP/1.0\\r\\n\\r\\n" "$1" >&3; for i in $(seq 100); do cat <&3 2>/dev/null && break; sleep 0.1; done; exec 3<&-; }',
        'req http://allowed.test/ | tail -n 1',
        'req http://denied.test/ | head -n 1 | tr -d "\\r"',
        // A connect with no route out is dropped, not refused: give it 5 s (as security.test.ts gives nc), not TCP's 2 minutes.
        `timeout 5 bash -c 'exec 3<>/dev/tcp/${ip}/80' 2>/dev/null && echo direct-connected || echo direct-refused`,
      ].join('\n');
      const result = await aca(['run', '--isolation', 'gvisor', '--image', 'aca-test/debian:bookworm', '--base', 'aca-test/debian:bookworm', '--no-workspace',
        '--allow-host', 'allowed.test', '--egress-network', net, '--', 'bash', '-c', script], { env, timeout: 170_000 });
      expect(result.stdout, result.stderr).toBe('hello-from-allowed\nHTTP/1.1 403 Forbidden\ndirect-refused\n');
    } finally {
      for (const c of await engine.listContainers([`${TEST_LABEL}=${runId}`], true)) await engine.removeContainer(c.Id, { force: true });
      await engine.removeContainer(`aca-egress-${net}`, { force: true }).catch(() => undefined);
      await engine.http.json('DELETE', `/networks/${net}`).catch(() => undefined);
    }
  }, 180_000);
});

/**
 * Podman lists runsc wherever the binary is (its default configuration knows it), but Podman 4.x's Docker-compatible
 * API ignores the runtime a container asks for. Whatever Podman does, a session asked to run under gVisor never runs
 * on the host kernel: it runs on gVisor's, or aca refuses it (and removes what it made).
 */
const podmanRunsc = await (async () => {
  if (!hasEngine || engineKind !== 'podman') return false;
  const { usableGvisorRuntime } = await import('../../dist/src/engine/info.js');
  return usableGvisorRuntime(await (await testEngine()).systemInfo(), true) !== undefined;
})();

describe.skipIf(!podmanRunsc)('gVisor on Podman', () => {
  const { aca, runId } = engineSuite();

  it('never runs a session asked for gVisor on the host kernel: gVisor\'s kernel, or a refusal', async () => {
    const name = `gv-pm-${runId}`;
    const result = await aca(['run', '--name', name, '--isolation', 'gvisor', '--image', TEST_IMAGE, '--no-workspace', '--', 'uname', '-r']);
    if (result.exitCode === 0) expect(result.stdout).toBe('4.4.0\n');
    else {
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^aca: --isolation gvisor \(runtime runsc\): the engine created \S+ with runtime \S+ instead; nothing was started\n/);
      expect(result.exitCode).toBe(125);
      expect(await sessionExists(name)).toBe(false);
    }
  }, 120_000);
});
