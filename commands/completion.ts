import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('completion')
    .summary('print a shell completion script: bash, zsh or fish')
    .description(
      'Print the completion script for SHELL on stdout. Install it with one of:\n' +
        '  aca completion bash > ~/.local/share/bash-completion/completions/aca\n' +
        '  echo \'source <(aca completion zsh)\' >> ~/.zshrc\n' +
        '  aca completion fish > ~/.config/fish/completions/aca.fish',
    )
    .argument('<shell>', 'bash, zsh or fish')
    .action(
      host.action(async (ctx, _flags, [shell]) => {
        const [{ SHELLS, completionScript }, { UsageError }] = await Promise.all([import('../src/completion.js'), import('../src/errors.js')]);
        const known = SHELLS.find((s) => s === shell);
        if (!known) throw new UsageError(`completion: unknown shell "${shell}" (use ${SHELLS.join(', ')})`);
        ctx.out.stdout.write(completionScript(known, program));
      }),
    );
}
