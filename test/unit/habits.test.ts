import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/audit.js';
import { UsageError } from '../../src/errors.js';
import { defaultShell } from '../../src/sessions/shell.js';

describe('aca audit --since', () => {
  const now = new Date('2026-01-31T12:00:00Z');

  it('accepts every form its help names', () => {
    expect(parseSince('30m', now).toISOString()).toBe('2026-01-31T11:30:00.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-01-24T12:00:00.000Z');
    expect(parseSince('1h30m', now).toISOString()).toBe('2026-01-31T10:30:00.000Z');
    expect(parseSince('2H', now).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(parseSince('2025-01-31', now).toISOString()).toBe('2025-01-31T00:00:00.000Z');
    expect(parseSince('2025-01-31T12:00Z', now).toISOString()).toBe('2025-01-31T12:00:00.000Z');
    expect(parseSince('2025-01-31T12:00:00+01:00', now).toISOString()).toBe('2025-01-31T11:00:00.000Z');
  });

  it('refuses anything else with one message naming both forms', () => {
    for (const bad of ['1w', 'yesterday', '2025-13-01', '2025-1-31', '', '-2h']) {
      expect(() => parseSince(bad, now)).toThrow(UsageError);
      expect(() => parseSince(bad, now)).toThrow(/expected a duration ago \(30m, 2h, 7d\) or an ISO date/);
    }
  });
});

describe('an image whose default command is a shell', () => {
  it('is recognised through aca\'s entrypoint and init wrappers', () => {
    expect(defaultShell({ Cmd: ['sh'] })).toBe('sh');
    expect(defaultShell({ Cmd: ['/bin/bash', '-l'], Entrypoint: ['/usr/local/bin/aca-entrypoint'] })).toBe('bash');
    expect(defaultShell({ Cmd: null, Entrypoint: ['tini', '--', 'zsh'] })).toBe('zsh');
  });

  it('is not a script run by a shell, nor any other program', () => {
    expect(defaultShell({ Cmd: ['sh', '-c', 'sleep 1'] })).toBeUndefined();
    expect(defaultShell({ Cmd: ['python3'] })).toBeUndefined();
    expect(defaultShell({ Cmd: [], Entrypoint: null })).toBeUndefined();
    expect(defaultShell(null)).toBeUndefined();
  });
});
