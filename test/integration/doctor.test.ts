import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineKind, engineSuite, hasEngine } from './setup.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: 'ok' | 'warn' | 'fail'; detail: string; hint?: string; data?: Record<string, unknown> }>;
}

describe.skipIf(!hasEngine)('aca doctor', () => {
  const { aca, workspace } = engineSuite();

  it('reports the engine aca uses and what it offers, as JSON, and exits 0', async () => {
    const result = await aca(['doctor', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.ok).toBe(true);
    const names = report.checks.map((c) => c.name);
    for (const name of ['engine version', 'cgroups', 'storage driver', 'security features', 'disk', 'base image', 'node-pty', 'configuration']) {
      expect(names).toContain(name);
    }
    const used = report.checks.filter((c) => c.name.startsWith('engine ') && c.data?.used === true);
    expect(used).toHaveLength(1);
    expect(used[0]!.data).toMatchObject({ kind: engineKind, answers: true });
    const version = report.checks.find((c) => c.name === 'engine version')!;
    expect(version.data).toMatchObject({ kind: engineKind, remote: false });
    expect(version.data!.apiVersion).toMatch(/^\d+\.\d+$/);
    expect(report.checks.find((c) => c.name === 'cgroups')!.data!.version).toMatch(/^[12]$/);
    expect(report.checks.find((c) => c.name === 'security features')!.data).toMatchObject({ seccomp: true });
    expect(report.checks.find((c) => c.name === 'disk')!.data!.freeBytes).toBeGreaterThan(0);
  });

  it('prints one line per check with a fix for what is wrong, and fails without an engine', async () => {
    const human = await aca(['doctor']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^ok {4}engine version: (Docker|Podman) /m);
    expect(human.stdout.trim().split('\n').pop()).toBe('aca can work here.');

    const none = await aca(['--host', 'unix:///nonexistent/aca.sock', 'doctor']);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toMatch(/^warn {2}engine unix:\/\/\/nonexistent\/aca\.sock: no answer \(--host\): socket not found$/m);
    expect(none.stdout).toMatch(/^FAIL {2}engine: no (?:container|podman) engine answered\n {6}fix: Start /m);
    expect(none.stdout.trim().split('\n').pop()).toBe('aca cannot work here: fix the FAIL lines above.');
  });

  it('fails on a configuration file aca cannot use, naming it', async () => {
    writeFileSync(join(workspace, '.acarc.json'), JSON.stringify({ memory: 'lots' }));
    try {
      const result = await aca(['doctor', '--json']);
      expect(result.exitCode).toBe(1);
      const report = JSON.parse(result.stdout) as Report;
      expect(report.ok).toBe(false);
      const config = report.checks.find((c) => c.name === 'configuration')!;
      expect(config.status).toBe('fail');
      expect(config.detail).toContain('.acarc.json');
      expect(config.detail).toContain('memory');
    } finally {
      writeFileSync(join(workspace, '.acarc.json'), '{}');
    }
  });
});
