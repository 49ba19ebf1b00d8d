/**
 * Agent presets: what `aca run --agent NAME` sets so a coding agent runs safely in a session without the user knowing
 * its recipe. Two are built in (claude, codex); users define more in their own configuration (`agents:`), never in a
 * project file (see config/schema.ts). Pure data and validation.
 */
import { ConfigError, UsageError } from '../errors.js';

export interface AgentPreset {
  /** Image the agent is installed in (default aca/base:full). */
  image?: string | undefined;
  /** The agent's executable and the flags it always gets inside the sandbox. */
  command: string[];
  /** Arguments used when the user gives none (e.g. none: an interactive agent). */
  args?: string[] | undefined;
  /** Fixed variables (no auto-update, no telemetry). */
  env?: Record<string, string> | undefined;
  /** Host variables holding an API key: the first one set goes in as a secret (--secret-env), never as plain env. */
  secrets?: string[] | undefined;
  /** Host variables passed through when set (base URL, model); a URL's host joins the allow-list. */
  passEnv?: string[] | undefined;
  /** Hosts the agent needs to reach its model service. */
  allowHosts?: string[] | undefined;
  caches?: string[] | undefined;
  /** A subscription login: files in the host home copied into the session home (mode 0600), with --agent-login only. */
  loginFiles?: string[] | undefined;
  /** Hosts the login needs besides the API (token refresh). */
  loginHosts?: string[] | undefined;
  /** The agent refuses to run as root (Claude Code with --dangerously-skip-permissions). */
  nonRoot?: boolean | undefined;
  /** Built-in only: the agent's own flags for a pass-through base URL it does not read from the environment. */
  baseUrlArgs?: ((variable: string, url: string) => string[]) | undefined;
}

export const BUILT_IN_AGENTS: Record<string, AgentPreset> = {
  claude: {
    command: ['claude', '--dangerously-skip-permissions'],
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1' },
    secrets: ['ANTHROPIC_API_KEY'],
    passEnv: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL', 'ANTHROPIC_SMALL_FAST_MODEL', 'ANTHROPIC_DEFAULT_SONNET_MODEL', 'ANTHROPIC_DEFAULT_HAIKU_MODEL', 'ANTHROPIC_DEFAULT_OPUS_MODEL'],
    allowHosts: ['api.anthropic.com'],
    loginFiles: ['.claude/.credentials.json'],
    loginHosts: ['console.anthropic.com', 'claude.ai'],
    nonRoot: true,
  },
  codex: {
    // Codex's own sandbox (landlock, seccomp) is aca's job here; approvals would wait for ever without a human.
    // The key reaches Codex only through the environment (env_key), never through a login file in the home volume.
    command: [
      'codex', '-c', 'sandbox_mode="danger-full-access"', '-c', 'approval_policy="never"',
      '-c', 'model_providers.aca-openai={ name = "OpenAI (aca)", base_url = "https://api.openai.com/v1", env_key = "OPENAI_API_KEY", wire_api = "responses" }',
      '-c', 'model_provider="aca-openai"',
    ],
    secrets: ['OPENAI_API_KEY'],
    passEnv: ['OPENAI_BASE_URL'],
    // Codex 0.171 ignores OPENAI_BASE_URL in the environment: the provider's base_url says it instead.
    baseUrlArgs: (variable, url) => (variable === 'OPENAI_BASE_URL' ? ['-c', `model_providers.aca-openai.base_url=${JSON.stringify(url)}`] : []),
    allowHosts: ['api.openai.com'],
    loginFiles: ['.codex/auth.json'],
    loginHosts: ['auth.openai.com', 'chatgpt.com'],
    nonRoot: true,
  },
};

/** The variables whose value is a URL whose host the agent must reach. */
export const BASE_URL_VARIABLES = ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL'];

const PRESET_KEYS = ['image', 'command', 'args', 'env', 'secrets', 'passEnv', 'allowHosts', 'caches', 'loginFiles', 'loginHosts', 'nonRoot'];

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new ConfigError(`${where}: expected a list of strings`);
  return value as string[];
}

/** `agents: {NAME: {...}}` in the user's configuration. */
export function checkAgents(value: unknown, where: string): Record<string, AgentPreset> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}: expected a map of agent names to presets`);
  const out: Record<string, AgentPreset> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const at = `${where}.${name}`;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new ConfigError(`${at}: invalid agent name (lower-case letters, digits, - and _)`);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${at}: expected an object`);
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!PRESET_KEYS.includes(key)) throw new ConfigError(`${at}: unknown key "${key}" (known: ${PRESET_KEYS.join(', ')})`);
    const base = BUILT_IN_AGENTS[name];
    if (entry.command === undefined && !base) throw new ConfigError(`${at}: "command" is required for a new agent`);
    const preset: AgentPreset = { ...(base ?? { command: [] }) };
    if (entry.image !== undefined) {
      if (typeof entry.image !== 'string' || entry.image === '') throw new ConfigError(`${at}.image: expected a non-empty string`);
      preset.image = entry.image;
    }
    for (const key of ['command', 'args', 'secrets', 'passEnv', 'allowHosts', 'caches', 'loginFiles', 'loginHosts'] as const) {
      if (entry[key] !== undefined) preset[key] = strings(entry[key], `${at}.${key}`);
    }
    if (preset.command.length === 0) throw new ConfigError(`${at}.command: expected at least the executable`);
    if (entry.env !== undefined) {
      if (entry.env === null || typeof entry.env !== 'object' || Array.isArray(entry.env)) throw new ConfigError(`${at}.env: expected a map of strings`);
      for (const [k, v] of Object.entries(entry.env as Record<string, unknown>)) if (typeof v !== 'string') throw new ConfigError(`${at}.env.${k}: expected a string`);
      preset.env = { ...(preset.env ?? {}), ...(entry.env as Record<string, string>) };
    }
    if (entry.nonRoot !== undefined) {
      if (typeof entry.nonRoot !== 'boolean') throw new ConfigError(`${at}.nonRoot: expected true or false`);
      preset.nonRoot = entry.nonRoot;
    }
    out[name] = preset;
  }
  return out;
}

/** The preset named NAME: the user's definition over the built-in one. */
export function findAgent(name: string, userAgents: Record<string, AgentPreset> | undefined, flag = '--agent'): AgentPreset {
  const preset = userAgents?.[name] ?? BUILT_IN_AGENTS[name];
  if (!preset) {
    const known = [...new Set([...Object.keys(BUILT_IN_AGENTS), ...Object.keys(userAgents ?? {})])];
    throw new UsageError(`${flag}: unknown agent "${name}" (known: ${known.join(', ')}; define more under "agents" in your configuration)`);
  }
  return preset;
}
