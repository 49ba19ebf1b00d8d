/**
 * `aca mcp`, driven by the MCP SDK's own client over stdio, as an agent on the host would: every tool, bad
 * arguments, a timeout, two environments on one repository at once, a client killed mid-command, and the branch
 * brought home by `aca merge`. The environments are aca sessions on aca/base:full (it has git, which --branch needs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { extract } from 'tar-stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ACA_BIN } from '../helpers/aca.js';
import { buildFullImage, debianPresent, FULL_IMAGE } from '../helpers/base-image.js';
import { inspectSession, TEST_LABEL, testEngine } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

const present = await debianPresent(hasEngine, 'the aca mcp test');

interface ToolAnswer {
  isError: boolean;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

describe.skipIf(!present)('aca mcp: environments for an agent on the host, over MCP', () => {
  const suite = engineSuite();
  const short = suite.runId.slice(-6);
  const scratch = mkdtempSync(join(tmpdir(), 'aca-mcp-test-'));
  const repo = join(scratch, 'repo');
  const gitconfig = join(scratch, 'gitconfig');
  const env = {
    ...process.env,
    NO_COLOR: '1',
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_STATE_HOME: join(scratch, 'state'),
    GIT_CONFIG_GLOBAL: gitconfig,
  } as Record<string, string>;
  const clients: Client[] = [];
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env }).trim();
  const aca = (args: string[]) => suite.aca(args, { cwd: repo, env, timeout: 120_000 });

  async function connect(): Promise<{ client: Client; transport: StdioClientTransport; call: (name: string, args?: Record<string, unknown>) => Promise<ToolAnswer> }> {
    const transport = new StdioClientTransport({ command: ACA_BIN, args: ['mcp'], cwd: repo, env, stderr: 'pipe' });
    const client = new Client({ name: 'aca-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> => {
      const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 })) as { isError?: boolean; content: Array<{ text: string }> };
      const text = result.content.map((c) => c.text).join('');
      return { isError: Boolean(result.isError), text, json: <T>() => JSON.parse(text) as T };
    };
    return { client, transport, call };
  }

  /** A tool call that must fail: as an error result, or (for arguments the schema refuses) as a protocol error. */
  async function refused(call: () => Promise<ToolAnswer>): Promise<string> {
    try {
      const answer = await call();
      expect(answer.isError, answer.text).toBe(true);
      return answer.text;
    } catch (error) {
      return (error as Error).message;
    }
  }

  async function open(call: (name: string, args?: Record<string, unknown>) => Promise<ToolAnswer>, name: string, branch: string) {
    const opened = await call('open_environment', { explanation: `test ${name}`, name, branch });
    expect(opened.isError, opened.text).toBe(false);
    return opened.json<{ environment: string; branch: string; base: string }>();
  }

  beforeAll(async () => {
    expectOk(await buildFullImage(suite.aca));
    mkdirSync(join(scratch, 'config', 'aca'), { recursive: true });
    // The user's own configuration: the image, and the test label teardown removes by.
    writeFileSync(join(scratch, 'config', 'aca', 'config.json'), JSON.stringify({ image: FULL_IMAGE, labels: { [TEST_LABEL]: suite.runId } }));
    writeFileSync(gitconfig, '[user]\n\tname = Test Human\n\temail = human@example.test\n');
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    writeFileSync(join(repo, 'README.md'), '# project\n');
    git('add', 'README.md');
    git('commit', '-qm', 'initial');
  }, 900_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists its tools, and every tool works in an environment on its own branch; aca merge brings it home', async () => {
    const head = git('rev-parse', 'HEAD');
    const { client, call } = await connect();
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['close_environment', 'command_status', 'commit', 'delete_file', 'list_environments', 'list_files', 'open_environment', 'read_file', 'run_command', 'show_diff', 'stop_command', 'write_file']);

    const name = `mcp-a-${short}`;
    const opened = await open(call, name, `mcp-feat-${short}`);
    expect(opened).toMatchObject({ environment: name, branch: `mcp-feat-${short}`, base: head });

    // A command: its streams apart, its exit code, the session's non-root user, the workspace is the repository.
    const ran = (await call('run_command', { environment: name, command: 'id -u; pwd; git branch --show-current; echo oops >&2; exit 3' })).json<{ exit_code: number; stdout: string; stderr: string; status: string }>();
    expect(ran).toMatchObject({ status: 'exited', exit_code: 3, stderr: 'oops\n' });
    expect(ran.stdout).toBe(`1000\n/workspace\nmcp-feat-${short}\n`);

    // Files: write (directories made), read, list, delete.
    expect((await call('write_file', { environment: name, path: 'src/hello.txt', content: 'hello from mcp\n' })).json()).toMatchObject({ path: '/workspace/src/hello.txt', bytes: 15 });
    expect((await call('read_file', { environment: name, path: '/workspace/src/hello.txt' })).json()).toMatchObject({ content: 'hello from mcp\n', encoding: 'utf8', truncated: false });
    expect((await call('write_file', { environment: name, path: 'bin.dat', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' })).isError).toBe(false);
    expect((await call('read_file', { environment: name, path: 'bin.dat' })).json()).toMatchObject({ content: 'AAEC/w==', encoding: 'base64' });
    const listed = (await call('list_files', { environment: name })).json<{ entries: Array<{ name: string; type: string }> }>();
    expect(listed.entries.map((e) => `${e.type}:${e.name}`).sort()).toEqual(['dir:.git', 'dir:src', 'file:README.md', 'file:bin.dat']);
    expect((await call('delete_file', { environment: name, path: 'bin.dat' })).isError).toBe(false);
    expect(await refused(() => call('delete_file', { environment: name, path: 'src' }))).toMatch(/not empty; pass recursive: true/);

    // Confinement, from the attacker's side: the session plants links that leave the workspace.
    expect((await call('run_command', { environment: name, command: 'ln -s /etc out; ln -s /etc/passwd pw; mkdir -p deep; ln -s ../../etc deep/up' })).json()).toMatchObject({ exit_code: 0 });
    expect(await refused(() => call('read_file', { environment: name, path: 'out/passwd' }))).toMatch(/symbolic link on the way leaves \/workspace/);
    expect(await refused(() => call('read_file', { environment: name, path: 'deep/up/hostname' }))).toMatch(/leaves \/workspace/);
    expect(await refused(() => call('write_file', { environment: name, path: 'out/evil', content: 'x' }))).toMatch(/leaves \/workspace/);
    expect(await refused(() => call('list_files', { environment: name, path: 'out' }))).toMatch(/leaves \/workspace/);
    expect(await refused(() => call('read_file', { environment: name, path: 'pw' }))).toMatch(/is a symbolic link/);
    expect(await refused(() => call('write_file', { environment: name, path: 'pw', content: 'x' }))).toMatch(/is a symbolic link/);
    expect(await refused(() => call('read_file', { environment: name, path: '../etc/passwd' }))).toMatch(/contains "\.\."/);
    expect(await refused(() => call('read_file', { environment: name, path: '/etc/passwd' }))).toMatch(/outside \/workspace/);
    expect(await refused(() => call('run_command', { environment: name, command: 'true', workdir: '/etc' }))).toMatch(/outside \/workspace/);
    // Deleting a link removes the link, never what it points to.
    expect((await call('delete_file', { environment: name, path: 'out' })).isError).toBe(false);
    expect((await call('run_command', { environment: name, command: 'test -f /etc/passwd && rm -f pw && rm -r deep' })).json()).toMatchObject({ exit_code: 0 });

    // A timeout kills the command; long output is cut with a note.
    const slow = (await call('run_command', { environment: name, command: 'echo started; sleep 60; echo never', timeout_seconds: 2 })).json<{ status: string; stdout: string; seconds: number }>();
    expect(slow.status).toBe('timed out');
    expect(slow.stdout).toBe('started\n');
    expect(slow.seconds).toBeLessThan(10);
    const big = (await call('run_command', { environment: name, command: 'seq 1 100000', max_output_bytes: 2048 })).json<{ stdout: string; stdout_bytes: number }>();
    expect(big.stdout).toMatch(/^1\n2\n3\n[\s\S]*\[aca: \d+ bytes of output cut here; 588895 in all\]\n[\s\S]*99999\n100000\n$/);
    expect(big.stdout_bytes).toBe(588895);

    // In the background: a handle to poll, and to stop.
    const job = (await call('run_command', { environment: name, command: 'echo one; sleep 1; echo two', background: true })).json<{ handle: string; status: string }>();
    expect(job.status).toBe('running');
    let polled = (await call('command_status', { environment: name, handle: job.handle })).json<{ status: string; stdout: string; exit_code: number }>();
    for (let i = 0; i < 50 && polled.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      polled = (await call('command_status', { environment: name, handle: job.handle })).json();
    }
    expect(polled).toMatchObject({ status: 'exited', exit_code: 0, stdout: 'one\ntwo\n' });
    const forever = (await call('run_command', { environment: name, command: 'sleep 600', background: true })).json<{ handle: string }>();
    expect((await call('stop_command', { environment: name, handle: forever.handle })).json()).toMatchObject({ status: 'stopped' });
    expect((await call('run_command', { environment: name, command: 'ps -eo args | grep -c "^sleep 600" || true' })).json<{ stdout: string }>().stdout.trim()).toBe('0');

    // Diff against where it started, commit, diff again.
    const before = (await call('show_diff', { environment: name })).json<{ commits: unknown[]; files: Array<{ path: string }>; uncommitted: number; patch: string }>();
    expect(before).toMatchObject({ commits: [], uncommitted: 1 });
    expect(before.files.map((f) => f.path)).toEqual(['src/hello.txt']);
    expect(before.patch).toContain('+hello from mcp');
    const committed = (await call('commit', { environment: name, message: 'mcp: add hello' })).json<{ commit: string }>();
    expect(committed.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await refused(() => call('commit', { environment: name, message: 'again' }))).toMatch(/nothing to commit/);
    const after = (await call('show_diff', { environment: name, stat_only: true })).json<{ commits: Array<{ sha: string; subject: string }>; uncommitted: number }>();
    expect(after).toMatchObject({ commits: [{ sha: committed.commit, subject: 'mcp: add hello' }], uncommitted: 0 });

    // It is an aca session: labelled, in aca ps with the mcp marker, its commands in aca logs in order.
    const listedEnvs = (await call('list_environments')).json<Array<{ name: string; mine: boolean; explanation: string }>>();
    expect(listedEnvs.find((e) => e.name === name)).toMatchObject({ mine: true, explanation: `test ${name}` });
    const ps = await aca(['ps', '--json']);
    expect((JSON.parse(ps.stdout) as Array<{ name: string; mcp: boolean; branch: string }>).find((r) => r.name === name)).toMatchObject({ mcp: true, branch: `mcp-feat-${short}` });
    expect((await aca(['ps'])).stdout).toMatch(new RegExp(`${name} .* mcp +mcp-feat-${short}`));
    const info = await inspectSession(name);
    expect(info.Config.Labels).toMatchObject({ 'aca.mcp': 'true', 'aca.managed': 'true', 'aca.branch': `mcp-feat-${short}` });
    expect(info.HostConfig.CapDrop).toContain('ALL');
    const logs = await aca(['logs', name]);
    expectOk(logs);
    const lines = logs.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\[aca mcp [^\]]+\] /, ''));
    expect(lines[0]).toMatch(/^opened on branch mcp-feat-/);
    expect(lines).toContain('exit 3: "id -u; pwd; git branch --show-current; echo oops >&2; exit 3"');
    expect(lines).toContain('timed out after 2s, killed: "echo started; sleep 60; echo never"');
    expect(lines.indexOf('wrote "/workspace/src/hello.txt" (15 bytes)')).toBeLessThan(lines.findIndex((l) => l.startsWith('exit 0: "ln -s')));

    // Close: the session stops; its branch and work stay for aca merge.
    expect((await call('close_environment', { environment: name })).json()).toMatchObject({ closed: name });
    expect((await inspectSession(name)).State.Running).toBe(false);
    expect(await refused(() => call('run_command', { environment: name, command: 'true' }))).toMatch(/no open environment/);
    const merged = await aca(['merge', name]);
    expectOk(merged);
    expect(git('show', `mcp-feat-${short}:src/hello.txt`)).toBe('hello from mcp');
    expect(git('log', '-1', '--format=%an <%ae>', `mcp-feat-${short}`)).toBe('Test Human <human@example.test>');
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect(git('status', '--porcelain')).toBe('');
  }, 600_000);

  it('answers bad arguments with an error and keeps serving', async () => {
    const { client, call } = await connect();
    expect(await refused(() => call('open_environment', {}))).toMatch(/explanation/);
    expect(await refused(() => call('open_environment', { explanation: 'x', path: join(scratch, 'nowhere') }))).toMatch(/not a directory/);
    expect(await refused(() => call('open_environment', { explanation: 'x', path: scratch }))).toMatch(/git|repository/i);
    expect(await refused(() => call('open_environment', { explanation: 'x', branch: 'bad..name' }))).toMatch(/branch/i);
    expect(await refused(() => call('open_environment', { explanation: 'x', preset: 'no-such-preset' }))).toMatch(/no-such-preset/);
    expect(await refused(() => call('run_command', { environment: 'nope', command: 'true' }))).toMatch(/no open environment "nope"/);
    expect(await refused(() => call('run_command', { environment: 'nope', command: 42 } as never))).toMatch(/command|string/i);
    expect(await refused(() => call('run_command', { environment: 'nope', command: 'true', timeout_seconds: 0 }))).toMatch(/timeout_seconds|>=|too small/i);
    expect(await refused(() => call('read_file', { environment: 'nope', path: 'x' }))).toMatch(/no open environment/);
    // Arguments that would widen the sandbox are in no schema: sent anyway, they are dropped, never applied.
    expect(Object.keys((await client.listTools()).tools.find((t) => t.name === 'open_environment')?.inputSchema.properties ?? {}).sort()).toEqual(['branch', 'explanation', 'image', 'name', 'path', 'preset']);
    const name = `mcp-w-${short}`;
    const widened = await call('open_environment', {
      explanation: 'try to widen', name, branch: `mcp-widen-${short}`,
      volume: ['/etc:/host-etc'], volumes: ['/etc:/host-etc'], allow_host: ['example.com'], allowHost: ['example.com'], user: '0:0', privileged: true, cap_add: ['SYS_ADMIN'], env: { SECRET: 'x' }, network: 'host',
    });
    expect(widened.isError, widened.text).toBe(false);
    const info = await inspectSession(name);
    expect(info.Config.User).toBe('1000:1000');
    expect(JSON.stringify(info.HostConfig.Binds ?? []) + JSON.stringify(info.Mounts)).not.toContain('/host-etc');
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.NetworkMode).not.toBe('host');
    expect(info.Config.Env.join('\n')).not.toContain('SECRET');
    expect((await call('run_command', { environment: name, command: 'id -u' })).json()).toMatchObject({ stdout: '1000\n' });
    expect((await call('list_environments')).isError).toBe(false);
  }, 300_000);

  it('serves two clients with an environment each on one repository at once, apart', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const [na, nb] = [`mcp-b-${short}`, `mcp-c-${short}`];
    await Promise.all([open(a.call, na, `mcp-two-a-${short}`), open(b.call, nb, `mcp-two-b-${short}`)]);
    await Promise.all([
      a.call('write_file', { environment: na, path: 'a.txt', content: 'a\n' }),
      b.call('write_file', { environment: nb, path: 'b.txt', content: 'b\n' }),
    ]);
    const [da, db] = await Promise.all([a.call('show_diff', { environment: na, stat_only: true }), b.call('show_diff', { environment: nb, stat_only: true })]);
    expect(da.json<{ files: Array<{ path: string }> }>().files.map((f) => f.path)).toEqual(['a.txt']);
    expect(db.json<{ files: Array<{ path: string }> }>().files.map((f) => f.path)).toEqual(['b.txt']);
    // Each sees the other's environment in the list, but works only in its own.
    const seen = a.call('list_environments').then((r) => r.json<Array<{ name: string; mine: boolean }>>());
    expect((await seen).filter((e) => [na, nb].includes(e.name)).sort((x, y) => x.name.localeCompare(y.name))).toEqual([{ name: na, mine: true }, { name: nb, mine: false }].map((e) => expect.objectContaining(e)));
    expect(await refused(() => a.call('run_command', { environment: nb, command: 'true' }))).toMatch(/no open environment/);
    await Promise.all([a.client.close(), b.client.close()]);
    // The clients went away: both environments stop; their work stays.
    for (const n of [na, nb]) await waitStopped(n);
    expectOk(await aca(['diff', na, '--stat']));
  }, 600_000);

  async function waitStopped(name: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      if (!(await inspectSession(name)).State.Running) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${name} is still running`);
  }

  it('stops the environment, keeping its work, when the server is killed mid-command', async () => {
    const { transport, call } = await connect();
    const name = `mcp-k-${short}`;
    await open(call, name, `mcp-kill-${short}`);
    expect((await call('write_file', { environment: name, path: 'work.txt', content: 'unsaved work\n' })).isError).toBe(false);
    const pending = call('run_command', { environment: name, command: 'sleep 300' }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(transport.pid!, 'SIGKILL');
    expect(await pending).toBeInstanceOf(Error);
    await waitStopped(name);
    // gc's rules: a stopped (not foreground) session is not orphaned; its branch work is kept for review.
    const row = (JSON.parse((await aca(['ps', '-a', '--json'])).stdout) as Array<{ name: string; orphaned: boolean; state: string }>).find((r) => r.name === name);
    expect(row).toMatchObject({ orphaned: false, state: 'exited' });
    const diff = await aca(['diff', name, '--json']);
    expectOk(diff);
    expect(JSON.parse(diff.stdout)).toMatchObject({ files: [{ path: 'work.txt' }], uncommitted: 1 });
  }, 300_000);

  /** Claude Code's own executable, copied out of aca/base:full through the engine's archive API (it runs on this host). */
  async function claudeExecutable(): Promise<string> {
    const engine = await testEngine();
    const id = await engine.createContainer(`aca-claude-copy-${short}`, { Image: FULL_IMAGE, Labels: { [TEST_LABEL]: suite.runId } } as never);
    try {
      const http = (engine as unknown as { http: { stream(m: string, p: string, o: object): Promise<IncomingMessage> } }).http;
      const tar = await http.stream('GET', `/containers/${id}/archive`, { query: { path: '/opt/aca/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe' } });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolveTar, reject) => {
        const x = extract();
        x.on('entry', (_header, stream, next) => { stream.on('data', (c: Buffer) => chunks.push(c)); stream.on('end', next); });
        x.on('finish', resolveTar);
        x.on('error', reject);
        tar.pipe(x);
      });
      const file = join(scratch, 'claude');
      writeFileSync(file, Buffer.concat(chunks));
      chmodSync(file, 0o755);
      return file;
    } finally {
      await engine.removeContainer(id, { force: true });
    }
  }

  it('is driven by the real Claude Code as its MCP client, against a scripted stand-in model', async () => {
    const claude = await claudeExecutable();
    const standin = spawn(process.execPath, [join(import.meta.dirname, '../fixtures/standin/anthropic-mcp.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const log: string[] = [];
      const port = await new Promise<number>((resolvePort) => standin.stdout.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          log.push(line);
          const listening = (JSON.parse(line) as { listening?: number }).listening;
          if (listening) resolvePort(listening);
        }
      }));
      const name = `mcp-cc-${short}`;
      const steps = [
        { tool: 'mcp__aca__open_environment', input: { explanation: 'Claude Code works here', name, branch: `cc-${short}` } },
        { tool: 'mcp__aca__write_file', input: { environment: name, path: 'from-claude.txt', content: 'written by Claude Code\n' } },
        { tool: 'mcp__aca__run_command', input: { environment: name, command: 'id -u; cat from-claude.txt' } },
        { tool: 'mcp__aca__commit', input: { environment: name, message: 'claude code: add from-claude.txt' } },
        { tool: 'mcp__aca__close_environment', input: { environment: name } },
      ];
      const mcpConfig = JSON.stringify({ mcpServers: { aca: { command: ACA_BIN, args: ['mcp'], env } } });
      const home = join(scratch, 'claude-home');
      mkdirSync(home, { recursive: true });
      const { stdout: run } = await promisify(execFile)(claude, ['-p', '--mcp-config', mcpConfig, '--strict-mcp-config', '--allowedTools', 'mcp__aca', '--', `Do exactly this. <<MCP>>${JSON.stringify(steps)}<<END>>`], {
        cwd: repo,
        encoding: 'utf8',
        timeout: 300_000,
        env: {
          ...env, HOME: home, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`, ANTHROPIC_API_KEY: 'sk-ant-test',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1',
          // In -p mode Claude Code would otherwise ask the model before the MCP server is connected, and hide its tools behind a search.
          MCP_CONNECTION_NONBLOCKING: 'false', ENABLE_TOOL_SEARCH: 'false',
        },
      });
      expect(run).toContain('<<DONE>>');
      expect(run).toContain(`"closed": "${name}"`);
      // The model was offered aca's tools and called each in turn.
      const calls = log.map((l) => JSON.parse(l) as { answer?: { kind: string; name?: string } }).filter((l) => l.answer?.kind === 'tool').map((l) => l.answer!.name);
      expect(calls).toEqual(steps.map((s) => s.tool));
      const lines = (await aca(['logs', name])).stdout;
      expect(lines).toContain('exit 0: "id -u; cat from-claude.txt"');
      expect((await inspectSession(name)).State.Running).toBe(false);
      expectOk(await aca(['merge', name]));
      expect(git('show', `cc-${short}:from-claude.txt`)).toBe('written by Claude Code');
      expect(git('log', '-1', '--format=%s', `cc-${short}`)).toBe('claude code: add from-claude.txt');
    } finally {
      standin.kill();
    }
  }, 600_000);
});
