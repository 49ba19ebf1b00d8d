/**
 * The real Claude Code and the real Codex CLI, run by `aca run --agent claude|codex --branch ...` against scripted
 * stand-ins of the Anthropic Messages API and the OpenAI Responses API (test/fixtures/standin/), which the session
 * reaches only as allowed hosts through aca's egress proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFullImage, DEBIAN, debianPresent, FULL_IMAGE } from '../helpers/base-image.js';
import { removeLabelled, testEngine } from '../helpers/engine.js';
import { scanCheckpoint } from '../helpers/scan.js';
import { standins, STANDIN_PORT, type Standins } from '../helpers/standin.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

const present = await debianPresent(hasEngine, 'the agent test');
const gvisorOffered = present && engineKind === 'docker' &&
  (await import('../../dist/src/engine/info.js')).usableGvisorRuntime(await (await testEngine()).systemInfo(), true) !== undefined;

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

describe.skipIf(!present)('agents: the real Claude Code on its own branch, against a stand-in model service', () => {
  const suite = engineSuite();
  const short = suite.runId.slice(-6);
  const KEY = `sk-ant-test-${randomBytes(16).toString('hex')}`;
  const model = `standin-${suite.runId}`;
  const denied = `denied-${suite.runId}`;
  const openai = `openai-${suite.runId}`;
  const scratch = mkdtempSync(join(tmpdir(), 'aca-agent-test-'));
  const repo = join(scratch, 'repo');
  const state = join(scratch, 'state');
  const gitconfig = join(scratch, 'gitconfig');
  let stand: Standins;
  const checkpoints: string[] = [];

  const env = (extra: Record<string, string | undefined> = {}) => ({
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: `http://${model}:${STANDIN_PORT}`,
    XDG_STATE_HOME: state,
    XDG_CONFIG_HOME: join(scratch, 'config'),
    GIT_CONFIG_GLOBAL: gitconfig,
    ...extra,
  });
  const aca = (args: string[], extraEnv: Record<string, string | undefined> = {}) => suite.aca(args, { cwd: repo, env: env(extraEnv), timeout: 300_000 });
  const agentRun = (name: string, branch: string, script: string) =>
    aca(['run', '--name', name, '--agent', 'claude', '--branch', branch, '--egress-network', stand.network, '--base', DEBIAN, '--', '-p', `Do exactly this. <<RUN>>${script}<<END>>`]);

  beforeAll(async () => {
    expectOk(await buildFullImage(suite.aca));
    stand = await standins(suite.runId);
    await stand.start(model, 'anthropic.mjs', FULL_IMAGE);
    await stand.start(denied, 'anthropic.mjs', FULL_IMAGE);
    await stand.start(openai, 'openai.mjs', FULL_IMAGE);
    writeFileSync(gitconfig, '[user]\n\tname = Test Human\n\temail = human@example.test\n');
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    writeFileSync(join(repo, 'README.md'), '# project\n');
    git(repo, 'add', 'README.md');
    execFileSync('git', ['-C', repo, 'commit', '-qm', 'initial'], { env: { ...process.env, GIT_CONFIG_GLOBAL: gitconfig } });
  }, 900_000);

  afterAll(async () => {
    // Sessions first: their networks hold the egress proxy on the stand-ins' network; a checkpoint's image is in use
    // by a session restored from it until then.
    await removeLabelled(suite.runId);
    for (const checkpoint of checkpoints) await aca(['checkpoint', 'rm', checkpoint]).catch(() => {});
    await stand?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  const hostUnchanged = (head: string) => {
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(readdirSync(repo).sort()).toEqual(['.git', 'README.md']);
  };

  /** The key: in none of engine inspect, aca inspect, ps, logs, the audit trail. */
  const expectKeyNowhere = async (name: string, key: string, ps: string) => {
    const engine = await testEngine();
    const places = {
      'engine inspect': JSON.stringify(await engine.inspectContainer(`aca-${name}`)),
      'aca inspect --json': (await aca(['inspect', name, '--json'])).stdout,
      'aca inspect --security --json': (await aca(['inspect', name, '--security', '--json'])).stdout,
      'aca ps --json': ps,
      'aca logs': JSON.stringify(await aca(['logs', name])),
      'audit trail': readFileSync(join(state, 'aca', 'audit.jsonl'), 'utf8'),
      'aca audit --json': (await aca(['audit', '--json'])).stdout,
    };
    for (const [where, text] of Object.entries(places)) {
      expect(text.length, where).toBeGreaterThan(0);
      expect(text.includes(key), `the API key appears in ${where}`).toBe(false);
    }
  };

  it('runs the Bash tool as the session user on its branch; aca merge brings the branch home; the key shows nowhere', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const name = `agent-a-${short}`;
    const script = 'id -un > who.txt; id -u >> who.txt; echo from-agent-a > agent-a.txt; git add who.txt agent-a.txt; git commit -qm "agent a: add agent-a.txt"; ' +
      `curl -s -m 10 -o /dev/null -w "%{http_code}" http://${denied}:${STANDIN_PORT}/v1/messages > denied.txt; echo uncommitted > notes.txt`;
    const run = await agentRun(name, 'feat-a', script);
    expectOk(run);
    expect(run.stdout).toContain('<<DONE>>');

    // The model service saw the key (as x-api-key), and the tool call was made.
    const requests = await stand.requests(model);
    const messages = requests.filter((r) => String(r.path).startsWith('/v1/messages'));
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages.every((r) => r.apiKey === KEY)).toBe(true);
    expect(messages.some((r) => (r.answer as { kind?: string })?.kind === 'tool')).toBe(true);
    // The host that is not on the allow-list was refused by the proxy: nothing reached it.
    expect((await stand.requests(denied)).filter((r) => r.path)).toEqual([]);

    // The host's tree and HEAD are untouched; the work is on the session's branch.
    hostUnchanged(head);
    const diff = await aca(['diff', name, '--json']);
    expectOk(diff);
    const changes = JSON.parse(diff.stdout) as { branch: string; base: string; commits: Array<{ subject: string }>; files: Array<{ path: string }>; uncommitted: number };
    expect(changes.branch).toBe('feat-a');
    expect(changes.base).toBe(head);
    expect(changes.commits.map((c) => c.subject)).toEqual(['agent a: add agent-a.txt']);
    expect(changes.files.map((f) => f.path).sort()).toEqual(['agent-a.txt', 'denied.txt', 'notes.txt', 'who.txt']);
    expect(changes.uncommitted).toBe(2);
    const patch = await aca(['diff', name]);
    expectOk(patch);
    expect(patch.stdout).toContain('+aca\n+1000\n'); // who.txt: the Bash tool ran as the session user, not root
    expect(patch.stdout).toMatch(/\+\+\+ b\/denied.txt\n@@ [^\n]+\n\+403/); // the proxy answered 403

    const ps = await aca(['ps', '-a', '--json']);
    const row = (JSON.parse(ps.stdout) as Array<{ name: string; agent: string | null; branch: string | null }>).find((r) => r.name === name);
    expect(row).toMatchObject({ agent: 'claude', branch: 'feat-a' });

    const merged = await aca(['merge', name]);
    expectOk(merged);
    expect(merged.stderr).toMatch(/2 uncommitted changes/);
    expect(git(repo, 'show', 'feat-a:agent-a.txt')).toBe('from-agent-a');
    expect(git(repo, 'log', '-1', '--format=%an <%ae>', 'feat-a')).toBe('Test Human <human@example.test>');
    expect(git(repo, 'rev-parse', 'feat-a^')).toBe(head);
    hostUnchanged(head);

    await expectKeyNowhere(name, KEY, ps.stdout);
  }, 600_000);

  it('keeps the API key out of a checkpoint of an agent session: its image, its filesystem, its volumes, a session restored from it', async () => {
    const name = `ckpt-${short}`;
    const checkpoint = `ck-${short}`;
    checkpoints.push(checkpoint);
    // What the agent leaves in its home and its workspace: the scan must find these, or it proves nothing.
    const mark = `mark-${randomBytes(8).toString('hex')}`;
    const run = await agentRun(name, 'feat-ckpt', `echo home-${mark} > $HOME/marker.txt; echo workspace-${mark} > marker.txt`);
    expectOk(run);
    expect(run.stdout).toContain('<<DONE>>');
    expectOk(await aca(['checkpoint', name, '--name', checkpoint]));
    const listed = (JSON.parse((await aca(['checkpoint', 'ls', '--json'])).stdout) as Array<{ name: string; image: string; volumes: string[] }>).find((c) => c.name === checkpoint);
    expect(listed, 'the checkpoint is listed').toBeDefined();
    const home = `aca-ckpt-${checkpoint}-home`;
    const workspace = `aca-ckpt-${checkpoint}-workspace`;
    expect(listed!.volumes).toEqual(expect.arrayContaining([home, workspace]));

    const passwd = 'aca:x:1000:1000'; // the session user's line in the image's /etc/passwd
    const scan = await scanCheckpoint(await testEngine(), suite.runId, listed!, [KEY, `home-${mark}`, `workspace-${mark}`, passwd, 'aca-launch']);
    expect([...scan.config], 'the image configuration (its launcher) is what was scanned').toContain('aca-launch');
    expect([...scan.filesystem], 'the image filesystem was scanned').toContain(passwd);
    expect([...scan.volumes[home]!], 'the home volume was scanned').toContain(`home-${mark}`);
    expect([...scan.volumes[workspace]!], 'the workspace volume was scanned').toContain(`workspace-${mark}`);
    expect(scan.config.has(KEY), 'the key is in the checkpoint image configuration').toBe(false);
    expect(scan.filesystem.has(KEY), 'the key is in the checkpoint image filesystem').toBe(false);
    for (const [volume, found] of Object.entries(scan.volumes)) expect(found.has(KEY), `the key is in checkpoint volume ${volume}`).toBe(false);

    // A session restored from it without the key starts (one launcher, no secret to wait for), has the agent's
    // workspace, and has no key: not in its environment, not in /run/secrets.
    const elsewhere = mkdtempSync(join(scratch, 'restore-'));
    const restored = await suite.aca(['run', '--rm', '--from-checkpoint', checkpoint, '--', 'sh', '-c', 'cat /workspace/marker.txt; env; ls -A /run/secrets 2>&1; cat /run/secrets/* 2>&1; true'],
      { cwd: elsewhere, env: env({ ANTHROPIC_API_KEY: undefined }), timeout: 120_000 });
    expectOk(restored);
    expect(restored.stdout).toContain(`workspace-${mark}`);
    expect(restored.stdout.includes(KEY), 'the key reached a session restored without it').toBe(false);
  }, 600_000);

  it('runs two agents on two branches of one repository at once, each with its own change', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const [b, c] = [`agent-b-${short}`, `agent-c-${short}`];
    const commit = (file: string) => `echo ${file} > ${file}; git add ${file}; git commit -qm "add ${file}"`;
    const [runB, runC] = await Promise.all([agentRun(b, 'feat-b', commit('b.txt')), agentRun(c, 'feat-c', commit('c.txt'))]);
    expectOk(runB);
    expectOk(runC);
    for (const [session, file] of [[b, 'b.txt'], [c, 'c.txt']] as const) {
      const changes = JSON.parse((await aca(['diff', session, '--json'])).stdout) as { files: Array<{ path: string }> };
      expect(changes.files.map((f) => f.path)).toEqual([file]);
      expectOk(await aca(['merge', session]));
    }
    expect(git(repo, 'ls-tree', '--name-only', 'feat-b')).toBe('README.md\nb.txt');
    expect(git(repo, 'ls-tree', '--name-only', 'feat-c')).toBe('README.md\nc.txt');
    hostUnchanged(head);

    // --into: never the checked-out branch; a fast-forward, then a merge without a working tree.
    const intoMain = await aca(['merge', b, '--into', 'main']);
    expect(intoMain.exitCode).toBe(1);
    expect(intoMain.stderr).toMatch(/--into main: it is checked out/);
    git(repo, 'branch', 'integration', 'main');
    expect(JSON.parse((await aca(['merge', b, '--into', 'integration', '--json'])).stdout)).toMatchObject({ how: 'fast-forward' });
    expect(JSON.parse((await aca(['merge', c, '--into', 'integration', '--json'])).stdout)).toMatchObject({ how: 'merge' });
    expect(git(repo, 'ls-tree', '--name-only', 'integration')).toBe('README.md\nb.txt\nc.txt');
    hostUnchanged(head);
  }, 600_000);

  it('runs nothing from the session on the host: planted hooks, fsmonitor and filters stay inside', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const name = `evil-${short}`;
    const marker = join(scratch, 'pwned');
    const plant = [
      'set -e',
      `for h in post-checkout post-merge reference-transaction pre-commit post-commit fsmonitor-watchman; do printf '#!/bin/sh\\ntouch ${marker}\\n' > .git/hooks/$h; chmod +x .git/hooks/$h; done`,
      `git config core.fsmonitor "touch ${marker}"`,
      `git config filter.evil.smudge "touch ${marker}; cat"`,
      `git config filter.evil.clean "touch ${marker}; cat"`,
      'echo "* filter=evil" > .gitattributes',
      'echo payload > payload.txt',
      'git -c core.hooksPath=/dev/null -c core.fsmonitor=false add .gitattributes payload.txt',
      'git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c filter.evil.clean=cat commit -qm planted',
    ].join('\n');
    expectOk(await aca(['run', '--name', name, '--image', FULL_IMAGE, '--branch', 'evil', '--', 'sh', '-c', plant]));
    expectOk(await aca(['diff', name]));
    expectOk(await aca(['merge', name]));
    // What a user does next on the host: status, log, a checkout of the branch in a worktree of its own.
    git(repo, 'status');
    git(repo, 'log', '--oneline', 'evil');
    git(repo, 'worktree', 'add', '-q', join(scratch, 'evil-wt'), 'evil');
    git(join(scratch, 'evil-wt'), 'status');
    expect(readFileSync(join(scratch, 'evil-wt', 'payload.txt'), 'utf8')).toBe('payload\n');
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(repo, '.git', 'config'), 'utf8')).not.toMatch(/fsmonitor|evil/);
    expect(readdirSync(join(repo, '.git', 'hooks')).filter((h) => !h.endsWith('.sample'))).toEqual([]);
    git(repo, 'worktree', 'remove', '--force', join(scratch, 'evil-wt'));
    hostUnchanged(head);
  }, 300_000);

  it('runs Codex\'s exec tool as the session user on its branch, against a Responses API stand-in; the key shows nowhere', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const CODEX_KEY = `sk-test-${randomBytes(16).toString('hex')}`;
    const name = `codex-${short}`;
    const script = 'echo from-codex > codex.txt; id -un >> codex.txt; git add codex.txt; git commit -qm "codex: add codex.txt"';
    const run = await aca(['run', '--name', name, '--agent', 'codex', '--branch', 'feat-codex', '--egress-network', stand.network, '--base', DEBIAN,
      '--', 'exec', `Do exactly this. <<RUN>>${script}<<END>>`], { OPENAI_API_KEY: CODEX_KEY, OPENAI_BASE_URL: `http://${openai}:${STANDIN_PORT}/v1` });
    expectOk(run);
    expect(run.stdout).toContain('<<DONE>>');

    // The key reached the service as a bearer token; the model's tool call went out, and its output came back.
    const requests = (await stand.requests(openai)).filter((r) => r.path);
    const posts = requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses');
    expect(posts.length, JSON.stringify(requests)).toBeGreaterThanOrEqual(2);
    expect(posts.map((r) => r.authorization)).toEqual(posts.map(() => `Bearer ${CODEX_KEY}`));
    const answers = posts.map((r) => r.answer as { kind: string; call?: { name: string }; text?: string });
    expect(answers.some((a) => a.kind === 'tool' && a.call?.name === 'exec'), JSON.stringify(answers)).toBe(true);
    expect(answers.some((a) => a.kind === 'text' && a.text?.startsWith('<<DONE>>')), JSON.stringify(answers)).toBe(true);

    hostUnchanged(head);
    const changes = JSON.parse((await aca(['diff', name, '--json'])).stdout) as { branch: string; commits: Array<{ subject: string }>; files: Array<{ path: string }>; uncommitted: number };
    expect(changes).toMatchObject({ branch: 'feat-codex', uncommitted: 0 });
    expect(changes.commits.map((c) => c.subject)).toEqual(['codex: add codex.txt']);
    expect(changes.files.map((f) => f.path)).toEqual(['codex.txt']);
    const ps = await aca(['ps', '-a', '--json']);
    expect((JSON.parse(ps.stdout) as Array<{ name: string }>).find((r) => r.name === name)).toMatchObject({ agent: 'codex', branch: 'feat-codex' });
    expectOk(await aca(['merge', name]));
    // The command ran as the session user, not root.
    expect(git(repo, 'show', 'feat-codex:codex.txt')).toBe('from-codex\naca');
    expect(git(repo, 'log', '-1', '--format=%an <%ae>', 'feat-codex')).toBe('Test Human <human@example.test>');
    hostUnchanged(head);
    await expectKeyNowhere(name, CODEX_KEY, ps.stdout);
  }, 600_000);

  // Under gVisor, where the engine offers it (the Docker pass in CI: .ci/run registers runsc; gvisor.test.ts fails there without it).
  it.skipIf(!gvisorOffered)('runs the real Claude Code under gVisor (--isolation gvisor): its tool call runs on gVisor\'s kernel and lands on its branch', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const name = `agent-gv-${short}`;
    const script = 'uname -r > kernel.txt; git add kernel.txt; git commit -qm "agent gv: add kernel.txt"';
    const run = await aca(['run', '--name', name, '--isolation', 'gvisor', '--agent', 'claude', '--branch', 'feat-gv', '--egress-network', stand.network, '--base', DEBIAN,
      '--', '-p', `Do exactly this. <<RUN>>${script}<<END>>`]);
    expectOk(run);
    expect(run.stdout).toContain('<<DONE>>');
    expect((await (await testEngine()).inspectContainer(`aca-${name}`)).HostConfig.Runtime).toBe('runsc');
    const changes = JSON.parse((await aca(['diff', name, '--json'])).stdout) as { commits: Array<{ subject: string }>; files: Array<{ path: string }> };
    expect(changes.commits.map((c) => c.subject)).toEqual(['agent gv: add kernel.txt']);
    expect(changes.files.map((f) => f.path)).toEqual(['kernel.txt']);
    expectOk(await aca(['merge', name]));
    expect(git(repo, 'show', 'feat-gv:kernel.txt')).toBe('4.4.0'); // gVisor's user-space kernel ran the tool call
    hostUnchanged(head);
  }, 600_000);

  it('refuses, before any container, a missing key, an unknown agent, a root --user, and a project file defining agents', async () => {
    const before = (await (await testEngine()).listContainers([`acatest=${suite.runId}`], true)).length;
    const noKey = await aca(['run', '--agent', 'claude', '--', '-p', 'hi'], { ANTHROPIC_API_KEY: undefined });
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr.trim()).toMatch(/^aca: --agent claude: set ANTHROPIC_API_KEY in the environment/);
    expect(noKey.stderr).not.toMatch(/\n\s+at /);
    const unknown = await aca(['run', '--agent', 'nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown agent "nope" \(known: claude, codex/);
    const root = await aca(['run', '--agent', 'claude', '--user', '0:0', '--branch', 'x', '--', '-p', 'hi']);
    expect(root.exitCode).toBe(2);
    expect(root.stderr).toMatch(/refuses to run as root/);
    const project = mkdtempSync(join(scratch, 'project-'));
    writeFileSync(join(project, '.acarc.json'), JSON.stringify({ agents: { claude: { command: ['sh', '-c', 'curl evil'] } } }));
    const widened = await suite.aca(['run', '--agent', 'claude', '--', '-p', 'hi'], { cwd: project, env: env() });
    expect(widened.exitCode).toBe(2);
    // A project may choose a preset (agent) but never define one (agents) unless the user trusts the file.
    expect(widened.stderr).toMatch(/refused: key "agents" \(defines agent presets: their image, command, secrets and hosts\) widens the sandbox and it is not trusted/);
    expect((await (await testEngine()).listContainers([`acatest=${suite.runId}`], true)).length).toBe(before);
  }, 120_000);
});
