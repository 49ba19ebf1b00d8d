import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyAgent, nonRootUser, urlAllowEntry } from '../../src/agents/apply.js';
import { checkAgents, findAgent } from '../../src/agents/presets.js';
import { validateConfig } from '../../src/config/schema.js';

const noGit = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };

describe('agent presets', () => {
  it('sends the API key as a secret, never as a plain variable, and allows exactly the model service', () => {
    const { flags, command } = applyAgent('claude', undefined, {}, ['-p', 'hi'], { ...noGit, ANTHROPIC_API_KEY: 'sk-secret' });
    expect(flags.secretEnv).toEqual(['ANTHROPIC_API_KEY']);
    expect(flags.env!.join('\n')).not.toContain('sk-secret');
    expect(flags.env).not.toContain('ANTHROPIC_API_KEY');
    expect(flags.env).toContain('CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1');
    expect(flags.allowHost).toEqual(['api.anthropic.com']);
    expect(command).toEqual(['claude', '--dangerously-skip-permissions', '-p', 'hi']);
  });

  it('passes a base URL through and puts its host (and port) on the allow-list; codex gets it as its provider config', () => {
    const claude = applyAgent('claude', undefined, {}, [], { ...noGit, ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://gateway.test:8080' });
    expect(claude.flags.env).toContain('ANTHROPIC_BASE_URL');
    expect(claude.flags.allowHost).toEqual(['api.anthropic.com', 'gateway.test:8080']);
    const codex = applyAgent('codex', undefined, {}, ['exec', 'hi'], { ...noGit, OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'https://llm.test/v1' });
    expect(codex.flags.allowHost).toEqual(['api.openai.com', 'llm.test']);
    expect(codex.command.slice(-4)).toEqual(['-c', 'model_providers.aca-openai.base_url="https://llm.test/v1"', 'exec', 'hi']);
    expect(() => urlAllowEntry('OPENAI_BASE_URL', 'file:///x')).toThrow(/expected an http\(s\) URL/);
  });

  it('names what to set when no credential is there, and takes the login files only when asked', () => {
    expect(() => applyAgent('claude', undefined, {}, [], noGit)).toThrow(/^--agent claude: set ANTHROPIC_API_KEY in the environment \(or log in on this machine and add --agent-login\)$/);
    const home = mkdtempSync(join(tmpdir(), 'aca-home-'));
    expect(() => applyAgent('claude', undefined, { agentLogin: true }, [], { ...noGit, HOME: home })).toThrow(/\.credentials\.json does not exist/);
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', '.credentials.json'), '{}');
    const login = applyAgent('claude', undefined, { agentLogin: true }, ['-p', 'x'], { ...noGit, HOME: home });
    expect(login.flags.secret).toEqual([`ACA_AGENT_LOGIN_0=file:${join(home, '.claude', '.credentials.json')}`]);
    expect(login.flags.allowHost).toContain('console.anthropic.com');
    expect(login.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(login.command[2]).toContain(`(umask 077 && cat /run/secrets/ACA_AGENT_LOGIN_0 > "$HOME/.claude/.credentials.json") && chmod 600 "$HOME/.claude/.credentials.json"`);
    expect(login.command.slice(-4)).toEqual(['claude', '--dangerously-skip-permissions', '-p', 'x']);
  });

  it('takes only user.name and user.email from the host git config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-git-'));
    writeFileSync(join(dir, 'gitconfig'), '[user]\n\tname = Ada\n\temail = ada@example.test\n[credential]\n\thelper = store\n[core]\n\tsshCommand = evil\n');
    const { flags } = applyAgent('claude', undefined, {}, [], { ...noGit, GIT_CONFIG_GLOBAL: join(dir, 'gitconfig'), ANTHROPIC_API_KEY: 'k' });
    const git = flags.env!.filter((e) => e.startsWith('GIT_'));
    expect(git.sort()).toEqual(['GIT_AUTHOR_EMAIL=ada@example.test', 'GIT_AUTHOR_NAME=Ada', 'GIT_COMMITTER_EMAIL=ada@example.test', 'GIT_COMMITTER_NAME=Ada']);
  });

  it('validates user presets and lets a user override a built-in one', () => {
    const agents = checkAgents({ aider: { command: ['aider', '--yes'], secrets: ['OPENAI_API_KEY'], allowHosts: ['api.openai.com'] }, claude: { image: 'my/claude' } }, 'config: key "agents"');
    expect(findAgent('aider', agents).command).toEqual(['aider', '--yes']);
    expect(findAgent('claude', agents)).toMatchObject({ image: 'my/claude', command: ['claude', '--dangerously-skip-permissions'] });
    expect(() => findAgent('nope', agents)).toThrow(/unknown agent "nope" \(known: claude, codex, aider/);
    expect(() => checkAgents({ x: {} }, 'f')).toThrow(/f\.x: "command" is required/);
    expect(() => checkAgents({ x: { command: ['x'], mounts: [] } }, 'f')).toThrow(/unknown key "mounts"/);
    expect(validateConfig({ agent: 'claude', agents: { x: { command: ['x'] } } }, 'f')).toMatchObject({ agent: 'claude' });
  });

  it('never runs a non-root preset as root', () => {
    expect(nonRootUser('claude', '1234:1234', true, false)).toBe('1234:1234');
    expect(nonRootUser('claude', '0:0', false, false)).toBe('1000:1000');
    expect(() => nonRootUser('claude', '0:0', true, false)).toThrow(/owned by root and claude refuses to run as root/);
    expect(() => nonRootUser('claude', '0', false, true)).toThrow(/--user 0: the claude agent refuses to run as root/);
  });
});
