/**
 * Bounded resources, from the attacker's side: what a session writes cannot
 * wedge it (a full /tmp) or fill the engine's disk (its home volume, its
 * writable layer); limits the engine would refuse are usage errors before
 * anything is made.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE, inspectSession, sessionExists, testEngine } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

/**
 * The disk guards started with this state directory: a guard's command line and environment say so (a zombie has
 * neither). Tests run as root, or as the user the guards run as: /proc/PID/environ is readable either way.
 */
function guardsOf(stateHome: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('__disk-guard')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`XDG_STATE_HOME=${stateHome}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Stop the guards a test caused; its sessions are gone by then, so they would leave within an interval anyway. */
function stopGuards(stateHome: string): void {
  for (const pid of guardsOf(stateHome)) {
    try {
      process.kill(pid);
    } catch {
      // gone meanwhile
    }
  }
}

const state = mkdtempSync(join(tmpdir(), 'aca-limits-state-'));
// After the suite's own afterAll (nested, so it runs first) has removed the sessions.
afterAll(() => {
  stopGuards(state);
  rmSync(state, { recursive: true, force: true });
});
/** aca's state (audit trail, disk stops) for this file alone. */
const env = { XDG_STATE_HOME: state };

const auditOf = (stateHome: string) => {
  const file = join(stateHome, 'aca', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session: string; action: string; error?: string });
};

async function within(ms: number, done: () => boolean | Promise<boolean>): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return done();
}

/** Wait until the session is no longer running; the disk check runs every 10 s. */
async function waitStopped(name: string, withinMs = 40_000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!(await inspectSession(name)).State.Running) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

const volumesOf = async (session: string) => {
  return (await (await testEngine()).volumes.list(['aca.managed=true', `aca.session=${session}`])).map((v) => v.Name);
};

describe.skipIf(!hasEngine)('bounded resources', () => {
  const { aca, runId } = engineSuite();
  const run = (args: string[]) => aca(args, { env });

  it('a session that fills /tmp can still run rm, and is usable afterwards (row 10)', async () => {
    const name = `tmp-${runId}`;
    expectOk(await run(['run', '-d', '--no-workspace', '--name', name, '--memory', '64m', '--image', TEST_IMAGE]));
    // The agent fills /tmp until the tmpfs is full (dd fails with ENOSPC, as it should).
    const fill = await run(['exec', name, '--', 'sh', '-c', 'mkdir /tmp/x && dd if=/dev/zero of=/tmp/x/fill bs=1M count=100; df -k /tmp | tail -1']);
    expect(fill.stderr).toMatch(/No space left on device/);
    expect(fill.stdout).toMatch(/100%/);
    const removed = await run(['exec', name, '--', 'rm', '-rf', '/tmp/x']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    const after = await run(['exec', name, '--', 'sh', '-c', 'ls -A /tmp; echo usable']);
    expect(after).toMatchObject({ exitCode: 0, stdout: 'usable\n' });
  });

  it('a foreground run that fills /tmp and its in-memory home keeps running', async () => {
    const result = await run(['run', '--no-workspace', '--memory', '64m', '--image', TEST_IMAGE, '--', 'sh', '-c',
      'dd if=/dev/zero of=/tmp/f bs=1M count=100 2>/dev/null; dd if=/dev/zero of=$HOME/f bs=1M count=100 2>/dev/null; echo alive; rm /tmp/f $HOME/f && echo cleaned']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'alive\ncleaned\n' });
  });

  it('stops a detached session whose home outgrows --disk, and says why (row 9)', async () => {
    const name = `home-${runId}`;
    expectOk(await run(['run', '-d', '--no-workspace', '--name', name, '--disk', '32m', '--memory', '256m', '--image', TEST_IMAGE]));
    expect((await inspectSession(name)).Config.Labels['aca.disk']).toBe(String(32 * 1024 * 1024));
    // Under the memory limit, on the engine's disk: the home volume.
    const wrote = await run(['exec', name, '--', 'sh', '-c', 'dd if=/dev/zero of=$HOME/big bs=1M count=80 2>/dev/null && echo wrote']);
    expect(wrote.stdout).toBe('wrote\n');
    expect(await waitStopped(name)).toBe(true);
    const audit = readFileSync(join(state, 'aca', 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(audit.find((e) => e.session === name && e.action === 'stop')?.error).toMatch(/wrote 80 MiB, above its disk limit of 32 MiB/);
    // aca start says why it stopped; freeing space in time keeps it running.
    const started = await run(['start', name]);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stderr).toMatch(/was stopped: it wrote 80 MiB, above its disk limit of 32 MiB/);
    expectOk(await run(['exec', name, '--', 'sh', '-c', 'rm $HOME/big']));
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect((await inspectSession(name)).State.Running).toBe(true);
  }, 90_000);

  it('sessions started at once share one disk guard, which stops the one over its limit and leaves after the last', async () => {
    // A state directory of its own: this file's other sessions are the other directory's guard's (aca.owner.state).
    const home = mkdtempSync(join(tmpdir(), 'aca-limits-guard-'));
    const own = { XDG_STATE_HOME: home };
    const guards = join(home, 'aca', 'disk-guards');
    const names = [0, 1, 2, 3, 4].map((i) => `many${i}-${runId}`);
    try {
      const started = await Promise.all(names.map((name) =>
        aca(['run', '-d', '--no-workspace', '--name', name, '--disk', '32m', '--memory', '256m', '--image', TEST_IMAGE], { env: own })));
      for (const result of started) expectOk(result);
      // Exactly one was spawned: a second would still be alive here (it learns of the first only at its first tick).
      const alive = guardsOf(home);
      expect(alive).toHaveLength(1);
      expect(statSync(guards).mode & 0o777).toBe(0o700);
      const files = readdirSync(guards);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^[0-9a-f]{16}\.pid$/);
      expect(statSync(join(guards, files[0]!)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(guards, files[0]!), 'utf8').trim()).toBe(String(alive[0]));

      const [over, ...rest] = names as [string, ...string[]];
      expectOk(await aca(['exec', over, '--', 'sh', '-c', 'dd if=/dev/zero of=$HOME/big bs=1M count=48 2>/dev/null'], { env: own }));
      expect(await waitStopped(over)).toBe(true);
      for (const name of rest) expect((await inspectSession(name)).State.Running, name).toBe(true);
      const stops = auditOf(home).filter((e) => e.action === 'stop');
      expect(stops.map((e) => e.session)).toEqual([over]);
      expect(stops[0]!.error).toMatch(/wrote 48 MiB, above its disk limit of 32 MiB/);
      // The other directory's guard (this file's earlier sessions) left it alone.
      expect(auditOf(state).filter((e) => e.session === over)).toEqual([]);
      expect(guardsOf(home)).toEqual(alive);

      // The guard leaves in the background, maybe while its state directory is being removed: it writes no compile
      // cache on its way out (the rm below, which would, is told not to).
      rmSync(join(home, 'aca', 'compile-cache'), { recursive: true, force: true });
      expectOk(await aca(['rm', '-f', ...names], { env: { ...own, NODE_DISABLE_COMPILE_CACHE: '1' } }));
      // Its next tick finds nothing to guard: it leaves, and takes its pid file with it.
      expect(await within(30_000, () => guardsOf(home).length === 0 && readdirSync(guards).length === 0)).toBe(true);
      expect(existsSync(join(home, 'aca', 'compile-cache'))).toBe(false);
    } finally {
      await aca(['rm', '-f', ...names], { env: own });
      stopGuards(home);
      rmSync(home, { recursive: true, force: true });
    }
  }, 150_000);

  it('counts the writable layer of a --writable-root session', async () => {
    const name = `layer-${runId}`;
    // As root: the image's directories belong to root (every capability is still dropped; Podman's / is 0555, so /etc).
    expectOk(await run(['run', '-d', '--no-workspace', '--writable-root', '--user', '0:0', '--name', name, '--disk', '32m', '--image', TEST_IMAGE]));
    expectOk(await run(['exec', name, '--', 'sh', '-c', 'dd if=/dev/zero of=/etc/big bs=1M count=64 2>/dev/null']));
    expect(await waitStopped(name)).toBe(true);
  }, 60_000);

  it('counts a copy-mode workspace, and a foreground run says why it was stopped', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'aca-limits-copy-'));
    try {
      writeFileSync(join(workspace, 'README'), 'project\n');
      const result = await aca(['run', '--workspace', workspace, '--workspace-mode', 'copy', '--disk', '32m', '--image', TEST_IMAGE, '--', 'sh', '-c',
        'dd if=/dev/zero of=/workspace/big bs=1M count=64 2>/dev/null; sleep 30; echo not-stopped'], { cwd: workspace, env });
      expect(result.stdout).toBe('');
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/was stopped: it wrote 6\d MiB, above its disk limit of 32 MiB \(--disk\)/);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  }, 90_000);

  it('stops a session that hides its files from the check', async () => {
    const name = `hide-${runId}`;
    expectOk(await run(['run', '-d', '--no-workspace', '--name', name, '--image', TEST_IMAGE]));
    expectOk(await run(['exec', name, '--', 'sh', '-c', 'mkdir $HOME/hidden && echo x > $HOME/hidden/f && chmod 000 $HOME/hidden']));
    expect(await waitStopped(name)).toBe(true);
    const started = await run(['start', name]);
    expect(started.stderr).toMatch(/was stopped: its disk use cannot be measured \(du: .*Permission denied\)/);
  }, 60_000);

  it('gives every session a disk limit by default, and leaves one within it alone', async () => {
    const name = `quiet-${runId}`;
    expectOk(await run(['run', '-d', '--no-workspace', '--name', name, '--image', TEST_IMAGE]));
    expect((await inspectSession(name)).Config.Labels['aca.disk']).toBe(String(10 * 1024 ** 3));
    expectOk(await run(['exec', name, '--', 'sh', '-c', 'dd if=/dev/zero of=$HOME/small bs=1M count=8 2>/dev/null']));
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect((await inspectSession(name)).State.Running).toBe(true);
  }, 60_000);

  describe('limits the engine would refuse: exit 2, one line naming the flag and the range, nothing created', () => {
    it.each([
      [['--cpus', '999'], /^aca: --cpus: 999 CPUs is more than this host has \(allowed: 0\.01 to \d+\)$/],
      [['--pids', '99999999999'], /^aca: --pids: 99999999999 is more than the kernel allows \(allowed: 1 to 4194304\)$/],
      [['--memory', '99999999999999999999g'], /^aca: --memory: "99999999999999999999g" is too large \(allowed: 6m to \d+m, this host's memory\)$/],
      [['--memory', '5m'], /^aca: --memory: "5m" is below the 6m minimum/],
      [['--disk', '512k'], /^aca: --disk: "512k" is below the 1m minimum$/],
      [['--disk', 'lots'], /^aca: --disk: invalid size "lots"/],
      [['--timeout', '99999999999d'], /^aca: --timeout: duration "99999999999d" is too long/],
    ])('%j', async (flags, message) => {
      const name = `bad-${runId}-${(flags as string[])[0]!.slice(2)}`;
      const result = await run(['run', '--no-workspace', '--name', name, ...(flags as string[]), '--image', TEST_IMAGE, 'true']);
      expect(result.exitCode).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines[0]).toMatch(message as RegExp);
      expect(lines.filter((l) => !l.startsWith('hint:') && !l.startsWith('  '))).toHaveLength(1);
      expect(await sessionExists(name)).toBe(false);
      expect(await volumesOf(name)).toEqual([]);
    });

    it('--name "" is refused rather than replaced by a random name', async () => {
      const before = (await (await testEngine()).listContainers([`acatest=${runId}`], true)).length;
      const result = await run(['run', '--no-workspace', '--name', '', '--image', TEST_IMAGE, 'true']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim()).toMatch(/^aca: --name: the session name is empty/);
      expect((await (await testEngine()).listContainers([`acatest=${runId}`], true)).length).toBe(before);
    });

    it('a project file may only lower the disk limit', async () => {
      const workspace = mkdtempSync(join(tmpdir(), 'aca-limits-ws-'));
      try {
        writeFileSync(join(workspace, '.acarc.json'), JSON.stringify({ disk: '100g' }));
        const name = `proj-${runId}`;
        const raised = await aca(['run', '--workspace', workspace, '--name', name, '--image', TEST_IMAGE, 'true'], { cwd: workspace, env });
        expect(raised.exitCode).toBe(2);
        expect(raised.stderr).toMatch(/^aca: .*\.acarc\.json: refused: key "disk" \(100g is above 10g\)/);
        expect(await sessionExists(name)).toBe(false);
        writeFileSync(join(workspace, '.acarc.json'), JSON.stringify({ disk: '1g' }));
        const lowered = await aca(['run', '-d', '--workspace', workspace, '--workspace-mode', 'copy', '--name', name, '--image', TEST_IMAGE], { cwd: workspace, env });
        expectOk(lowered);
        expect((await inspectSession(name)).Config.Labels['aca.disk']).toBe(String(1024 ** 3));
      } finally {
        rmSync(workspace, { recursive: true, force: true });
      }
    }, 90_000);
  });

  it('aca doctor says how disk limits are enforced on this engine', async () => {
    const report = JSON.parse((await run(['doctor', '--json'])).stdout);
    const check = report.checks.find((c: { name: string }) => c.name === 'disk limits');
    // This machine's engines keep their data on ext4, where neither can enforce a size: aca's check applies.
    expect(check).toMatchObject({ status: 'ok', data: { mechanism: 'periodic-check' } });
    expect(check.detail).toMatch(/^periodic check by aca: every 10 s/);
  });

  it('--timeout beyond 2^31 ms (600h) does not fire at once', async () => {
    const result = await run(['run', '--no-workspace', '--timeout', '600h', '--image', TEST_IMAGE, '--', 'sh', '-c', 'sleep 1; echo finished']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'finished\n' });
  });
});
