/**
 * The specification's variables in string values. `${localEnv:VAR}` reads the host's environment, which is how
 * a project file would pull a host secret into the sandbox: every use is reported, and the mapping treats it as
 * a widening that needs the user's trust.
 */
import { createHash } from 'node:crypto';
import { basename, posix } from 'node:path';

export interface VariableContext {
  localWorkspaceFolder: string;
  containerWorkspaceFolder: string;
  env: NodeJS.ProcessEnv;
}

export interface Substituted {
  text: string;
  /** Host variables the text read (`${localEnv:VAR}`). */
  localEnv: string[];
}

/** A stable id for this workspace's dev container, as the specification's `${devcontainerId}`. */
export function devcontainerId(localWorkspaceFolder: string): string {
  return BigInt(`0x${createHash('sha256').update(localWorkspaceFolder).digest('hex').slice(0, 24)}`).toString(32).padStart(19, '0');
}

/** Escape text for the inside of a double-quoted POSIX shell word. */
export function shellDoubleQuoted(text: string): string {
  return text.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

const VARIABLE = /\$\{([a-zA-Z]+)(?::([^}:]*))?(?::([^}]*))?\}/g;

/**
 * Substitute `text`. With `shell`, the result is for a double-quoted shell word and `${containerEnv:VAR}` becomes
 * the shell's `${VAR}`, expanded inside the session; without it, containerEnv references stay as written.
 */
export function substitute(text: string, context: VariableContext, options: { shell?: boolean } = {}): Substituted {
  const localEnv: string[] = [];
  const literal = (value: string) => (options.shell ? shellDoubleQuoted(value) : value);
  let out = '';
  let last = 0;
  for (const match of text.matchAll(VARIABLE)) {
    out += literal(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [whole, name, arg, fallback] = match as unknown as [string, string, string | undefined, string | undefined];
    switch (name) {
      case 'localEnv':
      case 'env':
        if (arg) {
          localEnv.push(arg);
          out += literal(context.env[arg] ?? fallback ?? '');
        } else out += literal(whole);
        break;
      case 'containerEnv':
        out += options.shell && arg && /^[A-Za-z_][A-Za-z0-9_]*$/.test(arg) ? `\${${arg}${fallback !== undefined ? `:-${shellDoubleQuoted(fallback)}` : ''}}` : literal(whole);
        break;
      case 'localWorkspaceFolder':
        out += literal(context.localWorkspaceFolder);
        break;
      case 'localWorkspaceFolderBasename':
        out += literal(basename(context.localWorkspaceFolder));
        break;
      case 'containerWorkspaceFolder':
        out += literal(context.containerWorkspaceFolder);
        break;
      case 'containerWorkspaceFolderBasename':
        out += literal(posix.basename(context.containerWorkspaceFolder));
        break;
      case 'devcontainerId':
        out += literal(devcontainerId(context.localWorkspaceFolder));
        break;
      default:
        out += literal(whole);
    }
  }
  out += literal(text.slice(last));
  return { text: out, localEnv };
}
