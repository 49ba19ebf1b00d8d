import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mayNameEngine } from '../../src/config/engine-keys.js';

const root = mkdtempSync(join(tmpdir(), 'aca-engine-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A workspace and a user config directory of its own, with these files. */
function setup(files: Record<string, string>): { workspace: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(root, 'case-'));
  const env = { XDG_CONFIG_HOME: join(home, 'config'), HOME: home };
  const workspace = join(home, 'ws');
  mkdirSync(join(env.XDG_CONFIG_HOME, 'aca'), { recursive: true });
  mkdirSync(workspace);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(home, path), text);
  return { workspace, env };
}

describe('whether the configuration may choose the engine', () => {
  it('is no when no file applies, or the files set neither key', () => {
    const none = setup({});
    expect(mayNameEngine(none.workspace, none.env)).toBe(false);
    const plain = setup({ 'config/aca/config.json': '{"memory":"2g"}', 'ws/.acarc.json': '{"image":"x"}', 'ws/package.json': '{"name":"engine"}' });
    expect(mayNameEngine(plain.workspace, plain.env)).toBe(false);
  });
  it('is yes when the user file or the nearest project file names engine or host', () => {
    const user = setup({ 'config/aca/config.yaml': 'host: unix:///x.sock\n' });
    expect(mayNameEngine(user.workspace, user.env)).toBe(true);
    const project = setup({ 'ws/.acarc.json': '{"engine":"podman"}' });
    expect(mayNameEngine(project.workspace, project.env)).toBe(true);
    const pkg = setup({ 'ws/package.json': '{"aca":{"host":"tcp://h:1"}}' });
    expect(mayNameEngine(pkg.workspace, pkg.env)).toBe(true);
  });
  it('is yes for a key spelled with escapes, and for a user file of code, which cannot be read without running it', () => {
    const escaped = setup({ 'ws/.acarc.json': '{"\\u0068ost":"unix:///evil.sock"}' });
    expect(mayNameEngine(escaped.workspace, escaped.env)).toBe(true);
    const code = setup({ 'config/aca/config.js': 'module.exports = {}' });
    expect(mayNameEngine(code.workspace, code.env)).toBe(true);
  });
});
