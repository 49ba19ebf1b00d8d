/**
 * Turn `--agent NAME` into ordinary run flags: the image, the command and its sandbox defaults, the API key as a
 * secret (never a plain variable), pass-through variables and their hosts on the allow-list, the git identity, and
 * the subscription login when asked for. Everything is checked here, before any container is made.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { BASE_URL_VARIABLES, findAgent, type AgentPreset } from './presets.js';

export interface AgentFlags {
  agent?: string;
  agentLogin?: boolean;
  image?: string;
  env?: string[];
  secret?: string[];
  secretEnv?: string[];
  allowHost?: string[];
  cache?: string[];
}

export interface AppliedAgent<F> {
  flags: F;
  command: string[];
  preset: AgentPreset;
  /** Where the login files go, relative to the session's home (copied in at start, mode 0600). */
  loginCopies: Array<{ secret: string; target: string }>;
}


/** The host's git identity, and nothing else of its git config. */
export function hostGitIdentity(env: NodeJS.ProcessEnv): Array<[string, string]> {
  const read = (key: string) => {
    try {
      return execFileSync('git', ['config', '--get', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env }).trim();
    } catch {
      return '';
    }
  };
  const name = read('user.name');
  const email = read('user.email');
  const out: Array<[string, string]> = [];
  if (name) out.push(['GIT_AUTHOR_NAME', name], ['GIT_COMMITTER_NAME', name]);
  if (email) out.push(['GIT_AUTHOR_EMAIL', email], ['GIT_COMMITTER_EMAIL', email]);
  return out;
}

/** The host (and port, when not the scheme's default) of a base URL, for the allow-list. */
export function urlAllowEntry(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${variable}: not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${variable}: expected an http(s) URL, got "${value}"`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return url.port ? `${host}:${url.port}` : host;
}

export function applyAgent<F extends AgentFlags>(
  name: string,
  userAgents: Record<string, AgentPreset> | undefined,
  flags: F,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { keepCommand?: boolean } = {},
): AppliedAgent<F> {
  const preset = findAgent(name, userAgents);
  const out: F = { ...flags };
  out.image ??= preset.image;
  const extraEnv: string[] = [];
  for (const [k, v] of Object.entries(preset.env ?? {})) extraEnv.push(`${k}=${v}`);
  const allow = [...(preset.allowHosts ?? [])];
  const baseUrlArgs: string[] = [];
  for (const variable of preset.passEnv ?? []) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    extraEnv.push(variable);
    if (!BASE_URL_VARIABLES.includes(variable)) continue;
    allow.push(urlAllowEntry(variable, value));
    baseUrlArgs.push(...(preset.baseUrlArgs?.(variable, value) ?? []));
  }
  for (const [k, v] of hostGitIdentity(env)) extraEnv.push(`${k}=${v}`);

  // Credentials: the API key as a secret, or (opt-in) the subscription login files.
  const loginCopies: AppliedAgent<F>['loginCopies'] = [];
  const key = (preset.secrets ?? []).find((variable) => env[variable]);
  const secretEnv = [...(out.secretEnv ?? [])];
  const secret = [...(out.secret ?? [])];
  if (key && !secretEnv.includes(key)) secretEnv.push(key);
  if (flags.agentLogin) {
    const home = env.HOME || homedir();
    (preset.loginFiles ?? []).forEach((file, i) => {
      const path = join(home, file);
      if (!existsSync(path)) throw new UsageError(`--agent-login: ${path} does not exist; log in with ${preset.command[0]} on this machine first`);
      const secretName = `ACA_AGENT_LOGIN_${i}`;
      secret.push(`${secretName}=file:${path}`);
      loginCopies.push({ secret: secretName, target: file });
    });
    allow.push(...(preset.loginHosts ?? []));
  } else if (!key && (preset.secrets ?? []).length > 0) {
    const login = preset.loginFiles?.length ? ` (or log in on this machine and add --agent-login)` : '';
    throw new UsageError(`--agent ${name}: set ${preset.secrets!.join(' or ')} in the environment${login}`);
  }
  out.secretEnv = secretEnv;
  out.secret = secret;
  // Preset values first, so the user's -e and --allow-host come after and win.
  out.env = [...extraEnv, ...(out.env ?? [])];
  out.allowHost = [...new Set([...allow, ...(out.allowHost ?? [])])];
  out.cache = [...(preset.caches ?? []), ...(out.cache ?? [])];

  let command = options.keepCommand ? args : [...preset.command, ...baseUrlArgs, ...(args.length > 0 ? args : (preset.args ?? []))];
  if (loginCopies.length > 0) {
    // Copy the login into the home, private to the session user, then exec the agent.
    // cat under umask 077 rather than install(1), which small images (busybox's) may lack; chmod for a file already there.
    const copies = loginCopies
      .map((c) => `mkdir -p "$HOME/$(dirname '${c.target}')" && (umask 077 && cat /run/secrets/${c.secret} > "$HOME/${c.target}") && chmod 600 "$HOME/${c.target}"`)
      .join(' && ');
    command = ['/bin/sh', '-c', `${copies} && exec "$@"`, 'aca-agent', ...command];
  }
  return { flags: out, command, preset, loginCopies };
}

/** A preset that refuses root: pick the image's user when aca is free to, else say what to do. */
export function nonRootUser(name: string, user: string, workspaceBound: boolean, userGiven: boolean): string {
  if (!/^0(:|$)/.test(user) && user !== 'root' && !user.startsWith('root:')) return user;
  if (userGiven) throw new UsageError(`--user ${user}: the ${name} agent refuses to run as root; give another --user`);
  if (workspaceBound) {
    throw new UsageError(`--agent ${name}: the workspace is owned by root and ${name} refuses to run as root`, {
      hint: 'Use --branch NAME (the session works on its own copy) or --workspace-mode copy, or give --user UID:GID.',
    });
  }
  return '1000:1000';
}
