import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import { collect } from './options.js';

interface Flags {
  variant?: string;
  base?: string;
  file?: string;
  tag: string[];
  cache?: boolean;
  buildArg: string[];
  caCerts?: string;
  json?: boolean;
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('build')
    .summary('build aca\'s base image, or any Dockerfile')
    .description('Build aca/base:<variant> from aca\'s container/ folder, or with -f any Dockerfile in CONTEXT.')
    .argument('[context]', 'build context for -f (default: current directory)')
    .option('--variant <variant>', 'base image variant: full or alpine', 'full')
    .option('--base <image>', 'FROM image for the base build (for machines without a registry)')
    .option('-f, --file <dockerfile>', 'build this Dockerfile instead of aca\'s base image')
    .option('-t, --tag <tag>', 'tag the result (repeatable)', collect, [])
    .option('--no-cache', 'do not use the build cache')
    .option('--build-arg <K=V>', 'set a build argument (repeatable)', collect, [])
    .option('--ca-certs <file>', 'CA bundle the build trusts (default: the host bundle named by NODE_EXTRA_CA_CERTS or SSL_CERT_FILE)')
    .option('--json', 'print {"id","tags"}')
    .action(
      host.action<Flags>(async (ctx, flags, [contextArg]) => {
        const { buildFromFlags } = await import('../src/build-command.js');
        const result = await buildFromFlags(ctx, {
          variant: flags.variant ?? 'full',
          base: flags.base,
          file: flags.file,
          context: contextArg,
          tags: flags.tag,
          noCache: flags.cache === false,
          buildArgs: flags.buildArg,
          caCerts: flags.caCerts,
        });
        if (flags.json) ctx.out.data(JSON.stringify(result));
        else ctx.out.data(result.tags[0] ?? result.id);
      }),
    );
}
