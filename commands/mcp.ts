import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('mcp')
    .summary('serve sandboxed environments to an agent on the host over MCP (stdio)')
    .description(
      'Serve the Model Context Protocol on stdin/stdout. Its tools open aca sessions on new branches of a repository ' +
        "and work in them: run commands, read and write files, diff and commit. Each environment is an aca session with the user's " +
        'limits and egress allow-list; when the client goes away, its environments stop and their branches stay for ' +
        'aca diff / aca merge. Register it with: claude mcp add aca -- aca mcp',
    )
    .action(
      host.action(async (ctx) => {
        // The SDK is loaded here only: no other command pays for it.
        const [{ serveMcp }, { Output }] = await Promise.all([import('../src/mcp/server.js'), import('../src/output.js')]);
        // stdout is the protocol: anything aca would print as data goes to stderr instead.
        const out = new Output({ stdout: ctx.out.stderr, stderr: ctx.out.stderr, env: ctx.env, noColor: true, quiet: ctx.global.quiet, debug: ctx.global.debug });
        return serveMcp({ ...ctx, out });
      }),
    );
}
