/**
 * Shell completion scripts for bash, zsh and fish, generated from the declared command line (every command,
 * alias, subcommand and flag), so a new flag completes without anyone editing a script. Session arguments
 * complete from `aca ps -a --format '{{.Name}}'`.
 */
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface CommandShape {
  names: string[];
  summary: string;
  options: Option[];
  subcommands: string[];
  takesSession: boolean;
}

const flagsOf = (options: readonly Option[]) => options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
const valueFlags = (options: readonly Option[]) => flagsOf(options.filter((o) => o.required || o.optional));

function shapes(program: Command): CommandShape[] {
  return program.commands
    .filter((c) => c.name() !== 'help')
    .map((c) => ({
      names: [c.name(), ...c.aliases()],
      summary: c.summary() || c.description(),
      options: [...c.options],
      subcommands: c.commands.map((s) => s.name()),
      takesSession: c.registeredArguments.some((a) => a.name().startsWith('session')),
    }));
}

const SESSIONS = `aca ps -a --format '{{.Name}}' 2>/dev/null`;

function bash(program: Command): string {
  const commands = shapes(program);
  const cases = commands.map((c) => {
    const words = [...flagsOf(c.options), '--help', ...c.subcommands].join(' ');
    return `    ${c.names.join('|')}) words="${words}"; sessions=${c.takesSession ? 1 : 0} ;;`;
  });
  return `# aca completion for bash. Install: aca completion bash > ~/.local/share/bash-completion/completions/aca
_aca() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" skip=0 i words sessions=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    if ((skip)); then skip=0; continue; fi
    case "\${COMP_WORDS[i]}" in
      ${valueFlags(program.options).join('|')}) skip=1 ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${[...commands.flatMap((c) => c.names), ...flagsOf(program.options), '--help'].join(' ')}" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]] || ((sessions == 0)); then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${SESSIONS})" -- "$cur"))
  fi
}
complete -o default -F _aca aca
`;
}

const zshQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function zsh(program: Command): string {
  const commands = shapes(program);
  const described = commands.flatMap((c) => c.names.map((n) => zshQuote(`${n}:${c.summary}`)));
  const cases = commands.map((c) => {
    const words = [...flagsOf(c.options), '--help', ...c.subcommands].join(' ');
    return `    (${c.names.join('|')}) flags=(${words}); sessions=${c.takesSession ? 1 : 0} ;;`;
  });
  return `#compdef aca
# aca completion for zsh. Install: echo 'source <(aca completion zsh)' >> ~/.zshrc (after compinit)
_aca() {
  local -a commands flags
  local cmd="" skip=0 i sessions=0
  commands=(${described.join(' ')})
  for ((i = 2; i < CURRENT; i++)); do
    if ((skip)); then skip=0; continue; fi
    case "\${words[i]}" in
      (${valueFlags(program.options).join('|')}) skip=1 ;;
      (-*) ;;
      (*) cmd="\${words[i]}"; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $PREFIX == -* ]]; then compadd -- ${[...flagsOf(program.options), '--help'].join(' ')}; else _describe command commands; fi
    return
  fi
  case "$cmd" in
${cases.join('\n')}
    (*) return ;;
  esac
  if [[ $PREFIX == -* ]] || ((sessions == 0)); then
    compadd -- $flags
    ((sessions == 0)) && [[ $PREFIX != -* ]] && _files
  else
    compadd -- \${(f)"$(${SESSIONS})"}
  fi
}
compdef _aca aca
`;
}

const fishQuote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishOption(condition: string, option: Option): string {
  const parts = [`complete -c aca -n ${fishQuote(condition)}`];
  if (option.long) parts.push(`-l ${option.long.replace(/^--/, '')}`);
  if (option.short) parts.push(`-s ${option.short.replace(/^-/, '')}`);
  if (option.required || option.optional) parts.push('-r');
  parts.push(`-d ${fishQuote(option.description)}`);
  return parts.join(' ');
}

function fish(program: Command): string {
  const lines = ['# aca completion for fish. Install: aca completion fish > ~/.config/fish/completions/aca.fish'];
  lines.push(`complete -c aca -n __fish_use_subcommand -f`);
  for (const option of program.options) lines.push(fishOption('__fish_use_subcommand', option));
  for (const c of shapes(program)) {
    for (const name of c.names) lines.push(`complete -c aca -n __fish_use_subcommand -a ${name} -d ${fishQuote(c.summary)}`);
    const seen = `__fish_seen_subcommand_from ${c.names.join(' ')}`;
    for (const option of c.options) lines.push(fishOption(seen, option));
    for (const sub of c.subcommands) lines.push(`complete -c aca -n ${fishQuote(seen)} -f -a ${sub}`);
    if (c.takesSession) lines.push(`complete -c aca -n ${fishQuote(seen)} -f -a ${fishQuote(`(${SESSIONS})`)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, program: Command): string {
  return shell === 'bash' ? bash(program) : shell === 'zsh' ? zsh(program) : fish(program);
}
