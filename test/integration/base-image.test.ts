import { describe, expect, it } from 'vitest';
import { chownSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { testEngine } from '../helpers/engine.js';
import { buildFullImage, debianPresent } from '../helpers/base-image.js';
import { engineKind, engineSuite, hasEngine } from './setup.js';

const present = await debianPresent(hasEngine, 'the base-image test');

describe.skipIf(!present)('aca/base:full: the agent really runs inside', () => {
  const { aca } = engineSuite();

  it('builds the base image with the CA kept out of its layers', async () => {
    const built = await buildFullImage(aca);
    expect(built.exitCode, built.stderr).toBe(0);
    // Said before it starts: what, from what, how big, how long; then (no terminal here) every step, timed.
    expect(built.stderr).toMatch(/^aca: building aca\/base:full from aca-test\/debian:bookworm: Debian with git, .*; about [\d.]+ GB, usually .* minutes$/m);
    // Podman's compat build answers a fully cached build with no step lines at all.
    if (engineKind === 'docker') expect(built.stderr).toMatch(/^\[ *\w+\] Step \d+\/\d+ : RUN /m);
    const result = JSON.parse(built.stdout) as { id: string; tags: string[] };
    expect(result.tags).toEqual(['aca/base:full']);
    const engine = await testEngine();
    const image = await engine.images.inspect('aca/base:full');
    expect(image?.Id).toBe(result.id);
    expect(image?.Config?.Labels?.['aca.managed']).toBe('true');
    const history = await engine.http.json<Array<{ CreatedBy: string }>>('GET', '/images/aca/base:full/history');
    // The builder stage used the bundle; no step of the final image touches it.
    const finalSteps = history.map((h) => h.CreatedBy).join('\n');
    expect(finalSteps).not.toContain('aca-ca.crt');
  }, 900_000);

  // git runs in a scratch repository: a workspace without .git gets a read-only placeholder (no agent-made .git on the host).
  it('runs Claude Code, Codex, Node 22, Python, git and a compiler as the workspace owner, by default', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'aca-agent-'));
    chownSync(ws, 1234, 1234);
    const result = await aca(
      ['run', '--', 'bash', '-lc', 'claude --version; codex --version; node --version; python3 --version; cc --version | head -1; (cd "$(mktemp -d)" && git init -q && git commit -q --allow-empty -m x && git log --format=%an); id -u; npm --version'],
      { cwd: ws, timeout: 120_000 },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/);
    expect(lines[1]).toMatch(/^codex-cli \d+\.\d+/);
    expect(lines[2]).toMatch(/^v22\./);
    expect(lines[3]).toMatch(/^Python 3\./);
    expect(lines[4]).toMatch(/gcc|cc/);
    expect(lines[5]).toBe('aca agent');
    expect(lines[6]).toBe('1234');
  }, 180_000);
});
