/**
 * Podman without the init its containers.conf names (Debian may install tini
 * instead of catatonit): aca doctor finds it with a real create and says how
 * to fix it, and aca run fails with that line instead of the engine's error,
 * leaving nothing behind. The broken Podman is a private API service this file
 * starts (with its own CONTAINERS_CONF) and stops: the shared one is never
 * reconfigured. On any engine, doctor's create probe leaves no container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE } from '../helpers/engine.js';
import { findTool } from '../helpers/remote-engines.js';
import { engineKind, engineSuite, hasEngine } from './setup.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: 'ok' | 'warn' | 'fail'; detail: string; hint?: string }>;
}

const privatePodman = hasEngine && engineKind === 'podman' && process.getuid?.() === 0 && findTool('podman') !== undefined;
if (hasEngine && !privatePodman) {
  process.stderr.write(`\n*** podman-init.test.ts: the missing-init tests run only in the rootful Podman pass (they start a private Podman service); SKIPPED here.\n\n`);
}

describe.skipIf(!hasEngine)('aca doctor creates a session container for real', () => {
  const { aca } = engineSuite();
  it('reports the create as ok and removes its container', async () => {
    const result = await aca(['doctor', '--json']);
    expect(result.exitCode, result.stdout).toBe(0);
    const create = (JSON.parse(result.stdout) as Report).checks.find((c) => c.name === 'session create')!;
    expect(create.status, create.detail).toBe('ok');
    expect((await aca(['ps', '-a', '--json'])).stdout).not.toContain('aca-doctor-');
  });
});

describe.skipIf(!privatePodman)('Podman whose init_path names a missing init', () => {
  const { aca, runId } = engineSuite();
  let dir = '';
  let service: ChildProcess | undefined;
  let host = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aca-podman-init-'));
    const conf = join(dir, 'containers.conf');
    if (existsSync('/etc/containers/containers.conf')) copyFileSync('/etc/containers/containers.conf', conf);
    appendFileSync(conf, '\n[engine]\ninit_path = "/nonexistent/catatonit"\n');
    const socket = join(dir, 'podman.sock');
    host = `unix://${socket}`;
    service = spawn(findTool('podman')!, ['system', 'service', '--time=0', host], { env: { ...process.env, CONTAINERS_CONF: conf }, stdio: 'ignore' });
    const until = Date.now() + 30_000;
    while (!existsSync(socket) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(socket), 'the private podman service did not come up').toBe(true);
  }, 60_000);
  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service!.once('exit', r));
      service.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (service.exitCode === null) service.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('aca doctor fails the create check with the fix, and never says aca can work', async () => {
    const human = await aca(['--engine', 'podman', '--host', host, 'doctor']);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/^FAIL {2}session create: Podman cannot start any container: its init \/nonexistent\/catatonit \(containers\.conf init_path\) is not installed$/m);
    expect(human.stdout).toMatch(/fix: .*(?:init_path = "\/|install catatonit)/);
    expect(human.stdout).not.toContain('aca can work here');
  });

  it('aca run fails with one line and the fix, not the engine\'s error, and leaves no session', async () => {
    const name = `noinit-${runId}`;
    const run = await aca(['--engine', 'podman', '--host', host, 'run', '--name', name, '--no-workspace', '--image', TEST_IMAGE, '--', 'true']);
    expect(run.exitCode).toBe(125);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('aca: Podman cannot start any container: its init /nonexistent/catatonit (containers.conf init_path) is not installed');
    expect(lines).toHaveLength(2);
    expect(run.stderr).not.toContain('container-init binary not found');
    expect((await aca(['--engine', 'podman', '--host', host, 'ps', '-a', '-q'])).stdout).not.toContain(name);
  });
});
