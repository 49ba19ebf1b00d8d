import { describe, expect, it } from 'vitest';
import { DetachMatcher, formatDetachKeys, parseDetachKeys } from '../../src/terminal.js';

describe('detach keys', () => {
  it('parses and formats docker\'s key syntax', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-a,d')]).toEqual([1, 100]);
    expect([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_')]).toEqual([0, 27, 31]);
    for (const spec of ['ctrl-p,ctrl-q', 'ctrl-a,d', 'ctrl-@,ctrl-\\,x']) expect(formatDetachKeys(parseDetachKeys(spec))).toBe(spec);
    expect(() => parseDetachKeys('ctrl-1')).toThrow(/invalid key "ctrl-1"/);
    expect(() => parseDetachKeys('ab')).toThrow(/invalid key "ab"/);
  });

  it('detaches on the sequence, even split across chunks, and forwards what came before', () => {
    const m = new DetachMatcher(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(m.feed(Buffer.from('ls\x10'))).toEqual({ forward: Buffer.from('ls'), detach: false });
    expect(m.feed(Buffer.from('\x11'))).toEqual({ forward: Buffer.alloc(0), detach: true });
  });

  it('passes a broken prefix through as typing', () => {
    const m = new DetachMatcher(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(m.feed(Buffer.from('\x10x'))).toEqual({ forward: Buffer.from('\x10x'), detach: false });
    expect(m.feed(Buffer.from('\x10\x10\x11'))).toEqual({ forward: Buffer.from('\x10'), detach: true });
  });
});
