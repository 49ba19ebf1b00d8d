/**
 * aca killed outright (SIGKILL) in the middle of a copy-mode transfer, a
 * checkpoint and an export: no partial checkpoint is listed, the host holds
 * the old or the new version of every file, and a gc scoped to this file's
 * label cleans up what is left.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelled, spawnAca } from '../helpers/aca.js';
import { TEST_IMAGE, testEngine } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

const FILES = 64;
const FILE_BYTES = 2 * 1024 * 1024;

describe.skipIf(!hasEngine)('SIGKILL in the middle of copy, checkpoint and export', () => {
  const { aca, runId } = engineSuite();
  const scope = ['--label', `acatest=${runId}`];
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const bigProject = (files = FILES) => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-fault-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'data'));
    for (let i = 0; i < files; i++) writeFileSync(join(dir, 'data', `f${i}`), randomBytes(FILE_BYTES));
    return dir;
  };
  const volumesOf = async (session: string) => {
    const engine = await testEngine();
    return (await engine.volumes.list(['aca.managed=true', `aca.session=${session}`])).map((v) => v.Name);
  };
  /** Start aca, wait until `ready` holds, then kill it with SIGKILL. */
  const killWhen = async (args: string[], cwd: string, ready: () => Promise<boolean>) => {
    const child = spawnAca(labelled(args, runId), { cwd, timeout: 300_000 });
    const deadline = Date.now() + 120_000;
    while (!(await ready()) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const stillRunning = child.exitCode === null;
    child.kill('SIGKILL');
    await child;
    return stillRunning;
  };

  it('mid transfer: the host tree is untouched and gc removes the half-filled copy', async () => {
    const dir = bigProject();
    const before = readFileSync(join(dir, 'data', 'f7'));
    const name = `xfer-${runId}`;
    const killed = await killWhen(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], dir, async () => (await volumesOf(name)).some((v) => v.endsWith('-workspace')));
    expect(killed).toBe(true);
    expect(readdirSync(join(dir, 'data'))).toHaveLength(FILES);
    expect(readFileSync(join(dir, 'data', 'f7'))).toEqual(before);
    const gc = await aca(['gc', ...scope, '--json']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(await volumesOf(name), gc.stdout).toEqual([]);
    const helpers = await (await testEngine()).listContainers([`aca.session=${name}`], true);
    expect(helpers).toEqual([]);
  }, 180_000);

  it('mid checkpoint: no partial checkpoint is listed, and gc removes its volumes and resumes the session', async () => {
    const dir = bigProject(FILES / 2);
    const name = `ckptkill-${runId}`;
    const checkpoint = `half-${runId}`.toLowerCase();
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    const engine = await testEngine();
    const ckptVolumes = async () => (await engine.volumes.list(['aca.managed=true', `aca.checkpoint=${checkpoint}`])).map((v) => v.Name);
    await killWhen(['checkpoint', name, '--name', checkpoint], dir, async () => (await ckptVolumes()).some((v) => v.endsWith('-workspace')));
    const listed = JSON.parse((await aca(['checkpoint', 'ls', '--json'])).stdout) as Array<{ name: string }>;
    expect(listed.map((c) => c.name)).not.toContain(checkpoint);
    const gc = await aca(['gc', ...scope, '--older-than', '1h', '--json']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(await ckptVolumes()).toEqual([]);
    expect((await engine.inspectContainer(`aca-${name}`)).State.Status).toBe('running');
    // Nothing half-made stands in the way of the same checkpoint now.
    expectOk(await aca(['checkpoint', name, '--name', checkpoint], { timeout: 170_000 }));
    expectOk(await aca(['checkpoint', 'rm', checkpoint]));
  }, 300_000);

  it('mid export: every host file is the old or the new version, never half, and the next export finishes the job', async () => {
    const dir = bigProject();
    const old = new Map(readdirSync(join(dir, 'data')).map((f) => [f, readFileSync(join(dir, 'data', f))]));
    const name = `expkill-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    // The session rewrites every file with new content.
    expectOk(await aca(['exec', name, '--', 'sh', '-c', 'for f in data/*; do head -c 2097152 /dev/urandom > "$f"; done']));
    expectOk(await aca(['stop', '-t', '1', name]));
    const staging = () => readdirSync(dir).some((f) => f.startsWith('.aca-export-') && readdirSync(join(dir, f)).length > FILES / 4);
    await killWhen(['export', name], dir, async () => staging());
    const fresh = join(mkdtempSync(join(tmpdir(), 'aca-fault-new-')));
    dirs.push(fresh);
    expectOk(await aca(['export', name, fresh]));
    for (const [file, content] of old) {
      const now = readFileSync(join(dir, 'data', file));
      const expected = readFileSync(join(fresh, 'data', file));
      expect(now.equals(content) || now.equals(expected), file).toBe(true);
    }
    // The next export removes the killed one's staging and completes.
    expectOk(await aca(['export', name, '--prefer-session']));
    expect(readdirSync(dir).filter((f) => f.startsWith('.aca-export-'))).toEqual([]);
    for (const file of old.keys()) expect(readFileSync(join(dir, 'data', file)).equals(readFileSync(join(fresh, 'data', file))), file).toBe(true);
    expect(existsSync(join(dir, 'data'))).toBe(true);
    const gc = await aca(['gc', ...scope, '--json']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(await volumesOf(name), gc.stdout).toEqual([]);
  }, 180_000);
});
