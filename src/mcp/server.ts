/**
 * `aca mcp`: an MCP server over stdio (the official SDK) whose tools open aca sessions on new branches and work in
 * them. stdout carries the protocol only; every diagnostic goes to stderr. A tool's failure is an error result with
 * one sentence, never a crash of the server.
 */
import { resolve } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Context } from '../context.js';
import { hostGitIdentity } from '../agents/apply.js';
import { VERSION } from '../version.js';
import { WORKSPACE_PATH } from '../security.js';
import { Environments, stopAbandoned } from './environments.js';
import { deleteFile, listDir, readFile, writeFile } from './files.js';
import { Jobs } from './jobs.js';
import { workspacePath } from './paths.js';

const MiB = 1024 * 1024;

/** One sentence for the client: the first line of the message, without aca's own prefix. */
function sentence(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').replace(/^aca: /, '') || 'failed';
}

async function tool(work: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const value = await work();
    return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] };
  } catch (error) {
    return { isError: true, content: [{ type: 'text', text: sentence(error) }] };
  }
}

const environment = z.string().min(1).describe('the environment name open_environment returned');

export async function serveMcp(ctx: Context): Promise<number> {
  const say = (text: string) => ctx.out.stderr.write(`aca mcp: ${text}\n`);
  // A stray rejection is reported, never fatal: the server keeps serving its other environments.
  process.on('unhandledRejection', (reason) => say(`internal error: ${sentence(reason)}`));
  const environments = new Environments(ctx);
  const jobs = new Jobs(() => ctx.engine(), environments);
  const server = new McpServer({ name: 'aca', version: VERSION });

  server.registerTool('open_environment', {
    title: 'Open a sandboxed environment',
    description: `Open a sandboxed aca session with its own copy of a git repository (committed work only) on a new branch, mounted at ${WORKSPACE_PATH}. Limits, network allow-list and user come from the user's aca configuration. Returns the environment name the other tools take.`,
    inputSchema: {
      explanation: z.string().min(1).max(500).describe('why you need it: shown to the user'),
      path: z.string().min(1).optional().describe("the repository on the host (default: the server's working directory)"),
      branch: z.string().min(1).max(200).optional().describe('the new branch (default: aca-mcp-XXXXXX)'),
      name: z.string().min(1).max(63).optional().describe('the session name (default: mcp-XXXXXX)'),
      preset: z.string().min(1).optional().describe("an agent preset of the user's configuration (e.g. claude)"),
      image: z.string().min(1).optional().describe('the image (default: the configured one); it needs git'),
    },
  }, (args) => tool(async () => {
    const path = resolve(ctx.cwd, args.path ?? '.');
    say(`opening an environment on ${path}${args.branch ? ` (branch ${args.branch})` : ''}: ${args.explanation}`);
    const env = await environments.create({ path, branch: args.branch, name: args.name, image: args.image, agent: args.preset, explanation: args.explanation });
    say(`opened ${env.name} on branch ${env.branch} (review: aca diff ${env.name}; bring home: aca merge ${env.name})`);
    return { environment: env.name, branch: env.branch, base: env.base, repository: env.repo, image: env.image, workspace: WORKSPACE_PATH };
  }));

  server.registerTool('run_command', {
    title: 'Run a command',
    description: `Run a shell command (/bin/sh -c) in the environment, as its non-root user, in ${WORKSPACE_PATH} by default. Returns stdout, stderr and the exit code; long output is cut in the middle with a note. With background: true it returns a handle for command_status and stop_command.`,
    inputSchema: {
      environment,
      command: z.string().min(1).max(100_000),
      workdir: z.string().optional().describe(`a directory under ${WORKSPACE_PATH}`),
      timeout_seconds: z.number().int().min(1).max(3600).optional().describe('foreground only; default 120'),
      max_output_bytes: z.number().int().min(1024).max(4 * MiB).optional().describe('per stream; default 65536'),
      background: z.boolean().optional(),
    },
  }, (args) => tool(async () => {
    const env = environments.get(args.environment);
    const options = { workdir: workspacePath(args.workdir ?? '.'), cap: args.max_output_bytes ?? 65_536 };
    if (args.background) return jobs.startBackground(env, args.command, options);
    return jobs.runForeground(env, args.command, { ...options, timeoutMs: (args.timeout_seconds ?? 120) * 1000 });
  }));

  server.registerTool('command_status', {
    title: 'Poll a background command',
    description: 'Status, exit code and output so far of a background command.',
    inputSchema: { environment, handle: z.string().min(1) },
  }, (args) => tool(async () => jobs.status(environments.get(args.environment), args.handle)));

  server.registerTool('stop_command', {
    title: 'Stop a background command',
    description: 'Kill a background command (and its children).',
    inputSchema: { environment, handle: z.string().min(1) },
  }, (args) => tool(() => jobs.stop(environments.get(args.environment), args.handle)));

  server.registerTool('read_file', {
    title: 'Read a file',
    description: `Read a file under ${WORKSPACE_PATH} (relative paths are relative to it). Binary content comes back as base64.`,
    inputSchema: {
      environment,
      path: z.string().min(1),
      max_bytes: z.number().int().min(1).max(16 * MiB).optional().describe('default 1048576'),
      encoding: z.enum(['utf8', 'base64']).optional(),
    },
  }, (args) => tool(async () => readFile(await ctx.engine(), environments.get(args.environment).id, args.path, args.max_bytes ?? MiB, args.encoding)));

  server.registerTool('write_file', {
    title: 'Write a file',
    description: `Create or replace a file under ${WORKSPACE_PATH}; missing directories are made.`,
    inputSchema: { environment, path: z.string().min(1), content: z.string().max(32 * MiB), encoding: z.enum(['utf8', 'base64']).optional() },
  }, (args) => tool(async () => {
    const env = environments.get(args.environment);
    const bytes = Buffer.from(args.content, args.encoding ?? 'utf8');
    const path = await writeFile(await ctx.engine(), env.id, args.path, bytes);
    environments.log(env, `wrote ${JSON.stringify(path)} (${bytes.length} bytes)`);
    return { path, bytes: bytes.length };
  }));

  server.registerTool('list_files', {
    title: 'List a directory',
    description: `List a directory under ${WORKSPACE_PATH} (default: ${WORKSPACE_PATH}).`,
    inputSchema: { environment, path: z.string().optional(), max_entries: z.number().int().min(1).max(10_000).optional() },
  }, (args) => tool(async () => listDir(await ctx.engine(), environments.get(args.environment).id, args.path ?? '.', args.max_entries ?? 2000)));

  server.registerTool('delete_file', {
    title: 'Delete a file',
    description: `Delete a file, link or empty directory under ${WORKSPACE_PATH}; recursive: true for a directory with contents.`,
    inputSchema: { environment, path: z.string().min(1), recursive: z.boolean().optional() },
  }, (args) => tool(async () => {
    const env = environments.get(args.environment);
    const path = await deleteFile(await ctx.engine(), env.id, args.path, Boolean(args.recursive));
    environments.log(env, `deleted ${JSON.stringify(path)}`);
    return { deleted: path };
  }));

  server.registerTool('show_diff', {
    title: 'Show the changes',
    description: 'The branch\'s commits and every change (committed or not, untracked too) against the commit it started from.',
    inputSchema: { environment, stat_only: z.boolean().optional(), max_bytes: z.number().int().min(1024).max(16 * MiB).optional() },
  }, (args) => tool(async () => {
    const env = environments.get(args.environment);
    const { diffBranch } = await import('../sessions/branch-review.js');
    const { CappedOutput } = await import('./output.js');
    const { changes, patch } = await diffBranch(ctx, env.name, { stat: Boolean(args.stat_only) });
    const capped = new CappedOutput(args.max_bytes ?? 262_144);
    capped.push(Buffer.from(patch, 'utf8'));
    return { ...changes, ...(args.stat_only ? {} : { patch: capped.text() }) };
  }));

  server.registerTool('commit', {
    title: 'Commit',
    description: 'Commit every change in the environment (git add -A) on its branch. The user reviews it with aca diff and brings it home with aca merge.',
    inputSchema: { environment, message: z.string().min(1).max(10_000) },
  }, (args) => tool(async () => {
    const env = environments.get(args.environment);
    const identity = hostGitIdentity(ctx.env);
    const fallback: Array<[string, string]> = [['GIT_AUTHOR_NAME', 'aca mcp'], ['GIT_COMMITTER_NAME', 'aca mcp'], ['GIT_AUTHOR_EMAIL', 'aca-mcp@localhost'], ['GIT_COMMITTER_EMAIL', 'aca-mcp@localhost']];
    const vars = [...fallback.filter(([k]) => !identity.some(([i]) => i === k)), ...identity, ['ACA_MCP_MESSAGE', args.message]].map(([k, v]) => `${k}=${v}`);
    const run = await jobs.runForeground(env, 'git add -A && git commit -q -m "$ACA_MCP_MESSAGE" && git rev-parse HEAD', { workdir: WORKSPACE_PATH, cap: 65_536, timeoutMs: 120_000, envVars: vars });
    if (run.exit_code !== 0) {
      const why = /nothing to commit|nothing added/.test(run.stdout) ? 'there is nothing to commit' : (run.stderr.trim().split('\n').pop() || `git exit ${run.exit_code ?? run.status}`);
      throw new Error(`cannot commit in ${env.name}: ${why}`);
    }
    return { environment: env.name, branch: env.branch, commit: run.stdout.trim().split('\n').pop() };
  }));

  server.registerTool('list_environments', {
    title: 'List environments',
    description: 'Every environment aca mcp opened on this engine (any server); "mine" marks the ones this server can work in.',
    inputSchema: {},
  }, () => tool(() => environments.list()));

  server.registerTool('close_environment', {
    title: 'Close an environment',
    description: 'Stop the environment. Its branch and work stay for the user to review (aca diff) and merge (aca merge) or remove (aca rm).',
    inputSchema: { environment },
  }, (args) => tool(async () => {
    const env = await environments.close(args.environment);
    say(`closed ${env.name}; its branch ${env.branch} stays (aca diff ${env.name}, aca merge ${env.name}, aca rm ${env.name})`);
    return { closed: env.name, branch: env.branch, review: `aca diff ${env.name}`, merge: `aca merge ${env.name}` };
  }));

  void stopAbandoned(ctx).then(
    (stopped) => { if (stopped.length) say(`stopped environments left running by a server that is gone: ${stopped.join(', ')}`); },
    (error: unknown) => say(`cannot look for abandoned environments: ${sentence(error)}`),
  );

  const transport = new StdioServerTransport();
  let finishing: Promise<number> | undefined;
  const finish = (why: string) => {
    finishing ??= (async () => {
      say(`${why}: stopping the environments this server opened (their branches stay)`);
      await environments.closeAll();
      await server.close().catch(() => {});
      return 0;
    })();
    return finishing;
  };
  const done = new Promise<number>((resolveDone) => {
    process.stdin.once('end', () => void finish('the client closed stdin').then(resolveDone));
    // A client gone mid-answer: EPIPE on stdout ends the server the same way, never as a crash.
    process.stdout.on('error', () => void finish('the client stopped reading').then(resolveDone));
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => void finish(`${signal}`).then(() => resolveDone(signal === 'SIGINT' ? 130 : 143)));
    }
  });
  await server.connect(transport);
  say(`serving MCP on stdio (aca ${VERSION})`);
  return done;
}
