import { describe, expect, it } from 'vitest';
import { buildProgram, invokedCommand } from '../../commands/cli.js';

describe('invokedCommand', async () => {
  const program = await buildProgram({}, { code: 0 });

  it('steps over global options and the values they take', () => {
    expect(invokedCommand(program, ['exec', 's', '--', 'true'])).toBe('exec');
    expect(invokedCommand(program, ['--engine', 'podman', 'ps', '--json'])).toBe('ps');
    expect(invokedCommand(program, ['--engine=podman', 'rm', 'x'])).toBe('rm');
    expect(invokedCommand(program, ['-H', 'unix:///run/x.sock', '--debug', 'run', '--', 'ls'])).toBe('run');
    expect(invokedCommand(program, ['-qH', 'tcp://h:2376', 'logs'])).toBe('logs');
    expect(invokedCommand(program, ['-Htcp://h:2376', 'stop'])).toBe('stop');
    expect(invokedCommand(program, ['-c', 'remote', '--tlscacert', 'ca.pem', 'start'])).toBe('start');
  });

  it('finds none for help, the version and a bare aca', () => {
    expect(invokedCommand(program, [])).toBeUndefined();
    expect(invokedCommand(program, ['--help'])).toBeUndefined();
    expect(invokedCommand(program, ['-q', '--engine', 'docker'])).toBeUndefined();
    expect(invokedCommand(program, ['help', 'exec'])).toBe('help');
  });
});
