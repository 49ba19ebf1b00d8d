import { describe, expect, it } from 'vitest';
import { PathRefused, workspacePath } from '../../src/mcp/paths.js';
import { CappedOutput } from '../../src/mcp/output.js';

describe('workspacePath: what an MCP client may name', () => {
  it.each([
    ['.', '/workspace'], ['', '/workspace'], ['src/a.ts', '/workspace/src/a.ts'], ['./src//a.ts', '/workspace/src/a.ts'],
    ['/workspace', '/workspace'], ['/workspace/', '/workspace'], ['/workspace/x/', '/workspace/x'], ['a/./b', '/workspace/a/b'],
  ])('%j -> %s', (given, expected) => {
    expect(workspacePath(given)).toBe(expected);
  });
  it.each(['..', '../etc/passwd', 'a/../../etc', '/workspace/../etc', 'a/..'])('refuses %j (..)', (given) => {
    expect(() => workspacePath(given)).toThrow(/contains "\.\."/);
  });
  it.each(['/etc/passwd', '/', '/workspacefoo', '/tmp/x'])('refuses %j (outside)', (given) => {
    expect(() => workspacePath(given)).toThrow(PathRefused);
    expect(() => workspacePath(given)).toThrow(/outside \/workspace/);
  });
  it('refuses a NUL byte', () => {
    expect(() => workspacePath('a\0b')).toThrow(/NUL/);
  });
});

describe('CappedOutput', () => {
  it('keeps everything within the limit', () => {
    const out = new CappedOutput(100);
    out.push(Buffer.from('hello '));
    out.push(Buffer.from('world'));
    expect(out.text()).toBe('hello world');
    expect(out.bytes).toBe(11);
  });
  it('keeps the first and the last half, and says how much was cut where', () => {
    const out = new CappedOutput(10);
    for (const c of 'abcdefghijklmnopqrstuvwxyz') out.push(Buffer.from(c));
    expect(out.text()).toBe('abcde\n[aca: 16 bytes of output cut here; 26 in all]\nvwxyz');
    expect(out.bytes).toBe(26);
  });
  it('cuts one large chunk the same way', () => {
    const out = new CappedOutput(4);
    out.push(Buffer.from('0123456789'));
    expect(out.text()).toBe('01\n[aca: 6 bytes of output cut here; 10 in all]\n89');
  });
});
