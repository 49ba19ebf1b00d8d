import { describe, expect, it } from 'vitest';
import { isStartFailureText, startFailureKind, startFailureVerdict } from '../../src/engine/start-failure.js';
import { commandDidNotStart } from '../../src/sessions/foreground.js';

/** Every voice in which an engine, an init or aca's launcher says a command did not start. */
const VOICES: Array<[string, 'not-found' | 'not-executable']> = [
  ['OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown', 'not-found'],
  ['OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown', 'not-executable'],
  ['failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown', 'not-found'],
  ['Error: runc: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH', 'not-found'],
  ['Error: crun: executable file `nosuchcmd` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found', 'not-found'],
  ['Error: crun: open executable: Permission denied: OCI permission denied', 'not-executable'],
  ['[FATAL tini (7)] exec nosuchcmd failed: No such file or directory\n', 'not-found'],
  ['[FATAL tini (7)] exec /etc/passwd failed: Permission denied\n', 'not-executable'],
  ['ERROR (catatonit:6): failed to exec pid1: No such file or directory\n', 'not-found'],
  ['ERROR (catatonit:7): failed to exec pid1: Permission denied\n', 'not-executable'],
  ['/usr/local/bin/aca-entrypoint: 81: exec: nosuchcmd: not found\n', 'not-found'],
  ['/usr/local/bin/aca-entrypoint: exec: line 81: nosuchcmd: not found\n', 'not-found'],
  ['/usr/local/bin/aca-entrypoint: 81: exec: /etc/passwd: Permission denied\n', 'not-executable'],
  ['aca-launch: 1: exec: nosuchcmd: not found\n', 'not-found'],
  ['aca-launch: exec: line 1: /etc/passwd: Permission denied\n', 'not-executable'],
];

describe('a command that did not start', () => {
  it.each(VOICES)('is recognised and classified: %s', (text, kind) => {
    expect(isStartFailureText(text)).toBe(true);
    expect(startFailureKind(text)).toBe(kind);
    expect(startFailureVerdict(Buffer.from(text.endsWith('\n') ? text : `${text}\n`))).toBe(true);
  });

  it('is told from ordinary output, waiting only while a first line may still become a launcher line', () => {
    expect(isStartFailureText('sh: x: not found\n')).toBe(false);
    expect(startFailureVerdict(Buffer.from('hello\n'))).toBe(false);
    expect(startFailureVerdict(Buffer.from('hel'))).toBe(false);
    // A frame may arrive in pieces: the start of tini's or catatonit's line is not yet decided.
    expect(startFailureVerdict(Buffer.from('[FATAL ti'))).toBeUndefined();
    expect(startFailureVerdict(Buffer.from('ERROR (catatonit:6): failed to'))).toBeUndefined();
    expect(startFailureVerdict(Buffer.from('Error: something else\n'))).toBe(false);
    expect(startFailureVerdict(Buffer.alloc(5000, 'E'.charCodeAt(0)))).toBe(false);
  });

  it('is said once, in aca\'s words, with the shell\'s exit code', () => {
    expect(commandDidNotStart('nosuchcmd', 's1', VOICES[0]![0])).toMatchObject({ exitCode: 127, reason: 'nosuchcmd: command not found in session s1' });
    expect(commandDidNotStart('/etc/passwd', 's1', VOICES[7]![0])).toMatchObject({ exitCode: 126, reason: '/etc/passwd: not executable (permission denied) in session s1' });
    expect(commandDidNotStart('x', 's1', 'something else')).toBeUndefined();
  });
});
