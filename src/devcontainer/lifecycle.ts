/**
 * The specification's lifecycle commands, run inside the session by a small POSIX shell wrapper that becomes the
 * session's entrypoint: onCreate, updateContent and postCreate once per session (a marker in the session's home
 * remembers it, so `aca start` skips them), postStart on every start, postAttach when a terminal is attached; then
 * the session's own command. Each command's output goes to stderr; a failing one ends the session with its exit
 * code and a line naming it. Pure: returns the script.
 */
import { UsageError } from '../errors.js';
import { shellDoubleQuoted } from './variables.js';

/** A lifecycle command as the specification allows: a shell string, an argv array, or named parallel commands. */
export type LifecycleCommand = string | string[] | Record<string, string | string[]>;

export const LIFECYCLE_PROPERTIES = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const;
export type LifecycleProperty = (typeof LIFECYCLE_PROPERTIES)[number];

export function checkLifecycleCommand(value: unknown, where: string): LifecycleCommand {
  const isArgv = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (isArgv(value)) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([, v]) => (typeof v === 'string' && v.trim() !== '') || isArgv(v))) return value as Record<string, string | string[]>;
  }
  throw new UsageError(`${where}: expected a command string, an array of arguments, or an object of named commands`);
}

/** Single-quote for POSIX sh. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function commandLine(command: string | string[]): string {
  return typeof command === 'string' ? `sh -c ${shellQuote(command)}` : command.map(shellQuote).join(' ');
}

/** Shell lines that run one lifecycle property and stop the session, naming it, if it fails. */
function stepLines(property: LifecycleProperty, command: LifecycleCommand): string[] {
  const fail = (name: string) => `{ c=$?; echo "aca: devcontainer ${name} failed with exit code $c" >&2; exit $c; }`;
  if (typeof command === 'string' || Array.isArray(command)) {
    return [`echo "aca: devcontainer ${property}" >&2`, `${commandLine(command)} >&2 || ${fail(property)}`];
  }
  // Named commands run in parallel, as the specification says; every one must succeed.
  const lines = [`echo "aca: devcontainer ${property} (${Object.keys(command).join(', ')})" >&2`];
  const names = Object.keys(command);
  names.forEach((name, i) => lines.push(`${commandLine(command[name]!)} >&2 & p${i}=$!`));
  names.forEach((name, i) => lines.push(`wait $p${i} || ${fail(`${property} '${name.replace(/[^A-Za-z0-9_.-]/g, '_')}'`)}`));
  return lines;
}

export interface WrapperInput {
  commands: Partial<Record<LifecycleProperty, LifecycleCommand>>;
  /** remoteEnv: values already prepared for a double-quoted shell word (see substitute's shell option). */
  remoteEnv: Array<[string, string]>;
  /** Marks the once-per-session commands as done; the file's hash in its name reruns them for a changed file. */
  marker: string;
  /** Run postAttachCommand (the session starts with a terminal attached). */
  attached: boolean;
}

/** The wrapper script, for `sh -c SCRIPT aca-devcontainer COMMAND...`; it ends by exec-ing COMMAND. */
export function wrapperScript(input: WrapperInput): string {
  const lines: string[] = [];
  for (const [key, value] of input.remoteEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`remoteEnv: invalid variable name "${key}"`);
    lines.push(`export ${key}="${value}"`);
  }
  const once = (['onCreateCommand', 'updateContentCommand', 'postCreateCommand'] as const).filter((p) => input.commands[p]);
  if (once.length > 0) {
    const marker = `"$HOME"/.aca/${shellDoubleQuoted(input.marker)}`;
    lines.push(`if [ ! -e ${marker} ]; then`);
    for (const property of once) lines.push(...stepLines(property, input.commands[property]!).map((l) => `  ${l}`));
    lines.push(`  mkdir -p "$HOME"/.aca && : > ${marker}`, 'fi');
  }
  if (input.commands.postStartCommand) lines.push(...stepLines('postStartCommand', input.commands.postStartCommand));
  if (input.attached && input.commands.postAttachCommand) lines.push(...stepLines('postAttachCommand', input.commands.postAttachCommand));
  lines.push('exec "$@"');
  return lines.join('\n');
}
