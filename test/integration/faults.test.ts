/**
 * Fault injection against real engines.
 *
 * Engine restarts: never the shared engine, always one of this file's own, of the pass's kind, killed with SIGKILL and
 * started again while a foreground `aca run`, an `aca monitor` and an `aca exec` use it: aca exits 125 with one line
 * (a supervising monitor reports the loss and carries on once the engine is back), and `aca gc --label` then leaves
 * nothing behind.
 *  - Docker pass: a second dockerd (own socket, data root, exec root and bridge, from the remote-engine machinery).
 *  - Podman pass: a private `podman system service` (own socket, storage, run root, temp dir, network configuration
 *    and lock files; see test/helpers/private-podman.ts). Podman has no daemon holding the containers: each has its
 *    own conmon, which lives on. So there "the engine restarts" means the API service dies and a new one starts on
 *    the same socket and store, which is what a client of the engine sees when a dockerd restarts.
 *
 * Concurrency and a full disk: on the suite's engine (Docker or Podman), which these tests do not restart: two
 * `aca run --name X` at once, twenty loops of run/exec/rm for a bounded time, and commands filling a small tmpfs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aca as acaRaw, labelled, spawnAca } from '../helpers/aca.js';
import { TEST_IMAGE, TEST_LABEL, testEngine } from '../helpers/engine.js';
import { killProcessesNaming, PRIVATE_PODMAN_TOOLS, startPrivatePodman } from '../helpers/private-podman.js';
import { missingTools, startTlsEngine } from '../helpers/remote-engines.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

// The Podman pass's engine of its own needs the podman CLI and conmon on this machine: skip loudly, fail in CI.
const missingPodman = hasEngine && engineKind === 'podman' ? missingTools(PRIVATE_PODMAN_TOOLS) : [];
if (missingPodman.length > 0) {
  const what = `the Podman pass's engine-restart tests need ${missingPodman.join(', ')} on this machine (they start a Podman service of their own)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${what}`);
  process.stderr.write(`\n*** faults.test.ts: SKIPPED in part: ${what}\n\n`);
}
const restartPass = hasEngine && (engineKind === 'docker' || engineKind === 'podman') && missingPodman.length === 0;
if (hasEngine && engineKind !== 'docker' && engineKind !== 'podman') {
  process.stderr.write(`\n*** faults.test.ts: the engine-restart tests are SKIPPED for a ${engineKind} engine (they restart a Docker or Podman engine of their own).\n\n`);
}

/** One line naming the fault (a hint line at most after it), no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  const lines = stderr.trim().split('\n').filter((line) => line.startsWith('aca:'));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0], stderr).toMatch(pattern);
  expect(stderr.trim().split('\n').length, stderr).toBeLessThanOrEqual(2);
}

/** Resolve once `check()` holds, or fail after `ms`. */
async function waitUntil(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A spawned aca whose output is collected as it comes. */
function watch(args: string[], options: { env?: Record<string, string> } = {}) {
  const child = spawnAca(args, { timeout: 120_000, ...options });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return { child, stdout: () => stdout, stderr: () => stderr, done: child.then((r) => ({ exitCode: r.exitCode ?? -1, stdout, stderr })) };
}

/** An engine of this file's own, on a unix socket, that a test may kill and start again. */
interface OwnEngine {
  socket: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** `networks`: those the sessions had (a Podman engine's CNI leaves records of them on the host). */
  stop(networks: string[]): Promise<void>;
}

async function startOwnEngine(): Promise<OwnEngine> {
  if (engineKind === 'podman') {
    const { url } = (await testEngine()).info;
    if (!url.startsWith('unix://')) throw new Error(`the Podman pass's engine is at ${url}: its test image is copied from a local socket only`);
    return startPrivatePodman([TEST_IMAGE], url);
  }
  const engine = await startTlsEngine([TEST_IMAGE]);
  return {
    socket: engine.socket,
    kill: engine.kill,
    restart: engine.restart,
    // A run that failed half-way may leave containerd shims of that engine (and their containers) behind.
    stop: async () => { await engine.stop(); killProcessesNaming(engine.dir); },
  };
}

describe.skipIf(!restartPass)(`engine restarts (a ${engineKind} engine of this file's own, killed with SIGKILL)`, () => {
  const { runId } = engineSuite();
  let engine: OwnEngine | undefined;
  const session = (what: string) => `fault-${what}-${runId}`;
  const scratch = restartPass ? mkdtempSync(join(tmpdir(), 'aca-faults-')) : '';
  const host = () => `unix://${engine!.socket}`;
  const aca = (args: string[]) => acaRaw(['--host', host(), ...labelled(args, runId)], { cwd: scratch });
  const spawn = (args: string[]) => watch(['--host', host(), ...labelled(args, runId)]);

  let down = false;
  const kill = async () => { down = true; await engine!.kill(); };
  const restart = async () => { await engine!.restart(); down = false; };

  beforeAll(async () => {
    engine = await startOwnEngine();
  }, 180_000);
  // A test that failed half-way leaves the engine up for the next one.
  afterEach(async () => { if (down) await restart(); }, 120_000);
  afterAll(async () => {
    await engine?.stop(['run', 'exec', 'mon'].map((what) => `aca-${session(what)}`));
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  /** What of this file's is on the engine: its containers, and every session's own volume or network. */
  const leftovers = async () => {
    const { connect } = await import('../../dist/src/engine/connect.js');
    const e = await connect({ host: host(), engine: 'auto', env: {} });
    try {
      const containers = await e.listContainers([`${TEST_LABEL}=${runId}`], true);
      const filters = JSON.stringify({ label: ['aca.session'] });
      const volumes = (await e.http.json<{ Volumes: Array<{ Name: string }> | null }>('GET', '/volumes', { query: { filters } })).Volumes ?? [];
      // The shared isolated network (Docker), made once, stays by design; it carries no aca.session label.
      const networks = await e.http.json<Array<{ Name: string }>>('GET', '/networks', { query: { filters } });
      return { containers: containers.map((c) => `${c.Names[0]} ${c.Status}`), volumes: volumes.map((v) => v.Name), networks: networks.map((n) => n.Name) };
    } finally {
      e.http.close();
    }
  };

  /** Start the engine again, and check that gc leaves nothing of this file's behind. */
  const restartAndCollect = async () => {
    await restart();
    const gc = await aca(['gc', '--label', `${TEST_LABEL}=${runId}`, '--include-running']);
    expectOk(gc);
    expect(await leftovers(), `gc said: ${gc.stdout}${gc.stderr}`).toEqual({ containers: [], volumes: [], networks: [] });
  };

  /** Kill the engine once `marker` is on the streaming command's stdout: aca exits 125 with one line; then collect. */
  const killWhileStreaming = async (args: string[], marker: string) => {
    const streaming = spawn(args);
    await waitUntil(`"${marker}" on stdout`, () => streaming.stdout().includes(marker));
    await kill();
    const result = await streaming.done;
    expect(result.exitCode, result.stderr).toBe(125);
    expectOneLine(result.stderr, /^aca: the engine at unix:\/\/.* cannot be reached: /);
    await restartAndCollect();
  };

  it('a foreground run exits 125 with one line when the engine dies, and gc cleans up after', async () => {
    await killWhileStreaming(['run', '--name', session('run'), '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo started; sleep 600'], 'started');
  }, 180_000);

  it('an exec streaming output exits 125 with one line when the engine dies', async () => {
    const name = session('exec');
    expectOk(await aca(['run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE]));
    await killWhileStreaming(['exec', name, '--', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done'], 'tick');
  }, 180_000);

  it('a monitor reports the engine\'s loss and exits 125; a supervising one carries on once it is back', async () => {
    const name = session('mon');
    expectOk(await aca(['run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE]));
    const plain = spawn(['monitor', '--json', '--interval', '1s', name]);
    const supervisor = spawn(['monitor', '--supervise', '--interval', '1s']);
    await waitUntil('a sample', () => plain.stdout().includes(`"session":"${name}"`));
    await new Promise((r) => setTimeout(r, 1500)); // the supervisor has sampled once too
    await kill();
    const result = await plain.done;
    expect(result.exitCode, result.stderr).toBe(125);
    expectOneLine(result.stderr, /the engine at .* cannot be reached/);
    await waitUntil('the supervisor to see the loss', () => /the engine at .* cannot be reached: .*reconnecting/.test(supervisor.stderr()));
    expect(supervisor.child.exitCode).toBeNull();
    await restart();
    await waitUntil('the supervisor to see the engine back', () => /the engine is back/.test(supervisor.stderr()));
    supervisor.child.kill('SIGTERM');
    const stopped = await supervisor.done;
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(stopped.stderr).not.toMatch(/\n\s+at /);
    const gc = await aca(['gc', '--label', `${TEST_LABEL}=${runId}`, '--include-running']);
    expectOk(gc);
    expect(await leftovers(), `gc said: ${gc.stdout}${gc.stderr}`).toEqual({ containers: [], volumes: [], networks: [] });
  }, 180_000);
});

describe.skipIf(!hasEngine)('concurrency and a full disk (the suite\'s engine)', () => {
  const suite = engineSuite();
  const { runId, workspace } = suite;
  // Twenty sessions at once on two cores: a command may wait long for its turn (Podman most), never fail for it.
  const aca = (args: string[]) => suite.aca(args, { timeout: 240_000 });
  const mounts: string[] = [];
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of mounts) {
      try { execFileSync('umount', [dir], { stdio: 'ignore' }); } catch { /* not mounted */ }
    }
    for (const dir of [...mounts, ...dirs]) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh tmpfs of `size` (e.g. 2m) on the host, removed in afterAll. */
  const smallDisk = (size: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-small-'));
    mounts.push(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0777`, 'tmpfs', dir]);
    return dir;
  };

  /** A project directory holding `files`, removed in afterAll. */
  const project = (files: Record<string, string | Buffer>) => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-full-ws-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return dir;
  };

  /**
   * Put copy-mode session `session`'s workspace volume on `disk`. No engine here can bound a volume's size (see the
   * README's Disk section), so the volume aca would create is made first, by the test, as a local volume bound to a
   * directory on a small tmpfs, with the labels aca gives it: aca then copies into it, and removes it, as its own.
   */
  const workspaceVolumeOn = async (session: string, disk: string) => {
    const backing = join(disk, session);
    mkdirSync(backing);
    const labels = { [TEST_LABEL]: runId, 'aca.managed': 'true', 'aca.session': session, 'aca.volume': 'workspace' };
    const engine = await testEngine();
    await engine.http.json('POST', '/volumes/create', {
      body: { Name: `aca-${session}-workspace`, Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: backing }, Labels: labels },
    });
    return backing;
  };

  /** What of this file's is left on the engine: containers, volumes and networks of its sessions. */
  const leftovers = async () => {
    const e = await testEngine();
    const containers = await e.listContainers([`${TEST_LABEL}=${runId}`], true);
    const volumes = (await e.volumes.list(['aca.managed=true'])).filter((v: { Name: string }) => v.Name.includes(runId));
    const networks = (await e.networks.list(['aca.managed=true'])).filter((n: { Name: string }) => n.Name.includes(runId));
    return { containers: containers.map((c) => c.Names[0]), volumes: volumes.map((v: { Name: string }) => v.Name), networks: networks.map((n: { Name: string }) => n.Name) };
  };

  it('two runs with one --name at once: one wins, the other says the name is taken, nothing leaks', async () => {
    const name = `race-${runId}`;
    const args = ['run', '--name', name, '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'sleep 2; echo done'];
    const [a, b] = await Promise.all([aca(args), aca(args)]);
    const results = [a, b].sort((x, y) => x.exitCode - y.exitCode);
    expect(results[0]!.exitCode, results[0]!.stderr).toBe(0);
    expect(results[0]!.stdout).toBe('done\n');
    expect(results[1]!.exitCode).not.toBe(0);
    expectOneLine(results[1]!.stderr, new RegExp(`session name "${name}" is taken`));
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  }, 120_000);

  it('twenty loops of run, exec and rm for a bounded time leak nothing and fail only where provoked', async () => {
    const until = Date.now() + 30_000;
    const failures: string[] = [];
    let rounds = 0;
    const loop = async (n: number) => {
      for (let i = 0; Date.now() < until; i++) {
        const name = `loop${n}-${i}-${runId}`;
        const started = await aca(['run', '-d', '--name', name, '--no-workspace', '--image', TEST_IMAGE]);
        if (started.exitCode !== 0) { failures.push(`run ${name}: exit ${started.exitCode} ${started.stderr}`); continue; }
        const exec = await aca(['exec', name, '--', 'sh', '-c', `echo ${n}-${i}`]);
        if (exec.exitCode !== 0 || exec.stdout !== `${n}-${i}\n`) failures.push(`exec ${name}: ${exec.exitCode} ${exec.stdout} ${exec.stderr}`);
        // Provoked: an exec of a command that does not exist is 127, with the command named.
        if (i === 0) {
          const missing = await aca(['exec', name, '--', 'no-such-command']);
          if (missing.exitCode !== 127) failures.push(`missing command in ${name}: ${missing.exitCode} ${missing.stderr}`);
        }
        const removed = await aca(['rm', '-f', name]);
        if (removed.exitCode !== 0) failures.push(`rm ${name}: exit ${removed.exitCode} ${removed.stderr}`);
        rounds += 1;
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => loop(n)));
    expect(failures).toEqual([]);
    expect(rounds).toBeGreaterThanOrEqual(20);
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  }, 600_000);

  it('a full disk: the command sees ENOSPC; aca, writing to it, says so in one line and leaks nothing', async () => {
    const small = smallDisk('1m');
    mkdirSync(join(small, 'ws'));
    chownSync(join(small, 'ws'), 1000, 1000); // bind-mounted: a root-owned workspace would be copied in instead
    // The session's workspace is the small disk: the command's own write fails, and its exit code is aca's.
    const filled = await aca(['run', '--workspace', join(small, 'ws'), '--image', TEST_IMAGE, '--', 'sh', '-c', 'dd if=/dev/zero of=/workspace/fill bs=64k count=64 2>/dev/null || { echo "dd: $?" >&2; exit 28; }']);
    expect(filled.exitCode, filled.stderr).toBe(28);
    expect(filled.stderr).toBe('dd: 1\n');
    rmSync(join(small, 'ws', 'fill'), { force: true });
    // aca's stdout is a file on the small disk: aca cannot write the output, says so in one line, and cleans up.
    const out = openSync(join(small, 'out'), 'w');
    const { ACA_BIN } = await import('../helpers/aca.js');
    const result = spawnSync(ACA_BIN, labelled(['run', '--no-workspace', '--image', TEST_IMAGE, '--', 'sh', '-c', 'head -c 3000000 /dev/zero'], runId), {
      cwd: workspace, stdio: ['ignore', out, 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000,
    });
    closeSync(out);
    expect(result.status, result.stderr).toBe(125);
    expectOneLine(result.stderr, /^aca: cannot write the command's output to stdout: no space left on device \(ENOSPC\)$/);
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  }, 120_000);

  it('a copy-mode session\'s full disk: the command sees ENOSPC, the work is kept, and its export is what was written', async () => {
    const name = `full-${runId}`;
    const backing = await workspaceVolumeOn(name, smallDisk('2m'));
    const dir = project({ 'readme.txt': 'from the host\n' });
    // The work first, then a write that fills the disk: the command sees ENOSPC (dd's own words, from /tmp).
    const script = [
      'echo work > notes.txt', 'mkdir src', 'echo "int main;" > src/a.c',
      'dd if=/dev/zero of=fill bs=64k count=64 2>/tmp/dd.err || { grep -o "No space left on device" /tmp/dd.err >&2; exit 28; }',
    ].join('; ');
    const run = await aca(['run', '--name', name, '--workspace', dir, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'sh', '-c', script]);
    expect(run.exitCode, run.stderr).toBe(28);
    expect(run.stderr).toMatch(/^No space left on device\n/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // The disk is full, and aca keeps the session (its workspace changed) and says what to do with it.
    expect(run.stderr).toContain(`aca: ${name} changed 3 paths in its workspace copy; the session is kept (stopped)`);
    expect(readFileSync(join(backing, 'fill')).length).toBeGreaterThan(1024 * 1024);
    const exported = await aca(['export', name]);
    expectOk(exported);
    expect(exported.stderr).toMatch(new RegExp(`wrote 3 paths to ${dir}`));
    // What the session wrote before the disk filled (read on the host, from the tmpfs under its volume) is on the host.
    for (const file of ['notes.txt', 'src/a.c', 'fill']) expect(readFileSync(join(dir, file)).equals(readFileSync(join(backing, file))), file).toBe(true);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('work\n');
    expect(readFileSync(join(dir, 'readme.txt'), 'utf8')).toBe('from the host\n');
    expectOk(await aca(['rm', name]));
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  }, 180_000);

  it('a workspace that does not fit the session\'s disk: aca says so in one line and leaks nothing', async () => {
    const name = `nofit-${runId}`;
    await workspaceVolumeOn(name, smallDisk('2m'));
    const dir = project({ 'big.bin': randomBytes(3 * 1024 * 1024) });
    const run = await aca(['run', '--name', name, '--workspace', dir, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'true']);
    expect(run.exitCode, run.stderr).toBe(125);
    expectOneLine(run.stderr, /^aca: .*big\.bin.*: no space left on device$/);
    expect(await leftovers()).toEqual({ containers: [], volumes: [], networks: [] });
  }, 120_000);
});
