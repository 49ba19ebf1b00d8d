/** The everyday points that need a person at a terminal (node-pty): attach without a session terminal, shell's offer, the prompt. */
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { TEST_IMAGE, inspectSession, sessionExists } from '../helpers/engine.js';
import { Terminal } from '../helpers/pty.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

const PROFILE = fileURLToPath(new URL('../../container/aca-profile.sh', import.meta.url));
const DEBIAN = 'aca-test/debian:bookworm';
/** A loaded engine (Podman especially) can take many seconds to start a session: first waits allow a minute. */
const START_MS = 60_000;

describe.skipIf(!hasEngine)('everyday use at a terminal', () => {
  const { aca, runId, workspace } = engineSuite();
  const label = ['--label', `acatest=${runId}`];
  // A failed wait leaves its aca running: end every terminal a test opened, so teardown finds its sessions idle.
  const opened: Terminal[] = [];
  const open = (args: string[]) => {
    const term = Terminal.aca(args, { cwd: workspace });
    opened.push(term);
    return term;
  };
  afterEach(() => {
    for (const term of opened.splice(0)) {
      try { term.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });

  it('attach to a session without a terminal shows its last lines, says how to leave, and Ctrl-P Ctrl-Q detaches', async () => {
    const name = `att-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo early-1; echo early-2; while sleep 1; do echo tick; done']));
    // Wait until the early lines are in the log: attach must show them although they came before it.
    for (let i = 0; i < 50 && !(await aca(['logs', name])).stdout.includes('early-2'); i++) await new Promise((r) => setTimeout(r, 100));
    const term = open(['attach', name]);
    await term.waitFor(`aca: attached to ${name}, which has no terminal`, START_MS);
    await term.waitFor('Detach with Ctrl-P Ctrl-Q or Ctrl-C; it keeps running.');
    await term.waitFor('early-2');
    await term.waitFor('tick'); // and what comes now
    term.type('\x10');
    term.type('\x11');
    expect((await term.exited).exitCode).toBe(0);
    expect(term.output).toContain(`detached from ${name}; it keeps running`);
    expect(term.output).not.toContain('^P');
    expect((await inspectSession(name)).State.Running).toBe(true);
  });

  it('shell offers the running session of this workspace, and --new starts another', async () => {
    const name = `offer-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
    const term = open(['shell', ...label, '--image', TEST_IMAGE]);
    await term.waitFor(new RegExp(`Session ${name} runs on this workspace.*Open the shell in it\\? \\[Y/n\\]`), START_MS);
    term.type('\r');
    expect(await term.run('hostname', START_MS)).toBe(`${name}\n`);
    term.type('exit\r');
    expect((await term.exited).exitCode).toBe(0);
    expect((await inspectSession(name)).State.Running).toBe(true); // the shell left, the session stays

    const other = `other-${runId}`;
    const fresh = open(['shell', '--new', '--name', other, ...label, '--image', TEST_IMAGE]);
    expect(await fresh.run('hostname', START_MS)).toBe(`${other}\n`);
    expect(fresh.output).not.toContain('runs on this workspace');
    fresh.type('exit\r');
    expect((await fresh.exited).exitCode).toBe(0);
    expect(await sessionExists(other)).toBe(false);
  });

  it('the prompt names the session: Debian\'s own, and aca-profile.sh\'s for aca\'s images', async () => {
    const plain = `prompt-${runId}`;
    const term = open(['shell', '--new', '--name', plain, ...label, '--image', DEBIAN]);
    await term.waitFor(new RegExp(`@${plain}:/workspace[#$] `), START_MS);
    term.type('exit\r');
    expect((await term.exited).exitCode).toBe(0);

    const profiled = `profile-${runId}`;
    const withProfile = open(['shell', '--new', '--name', profiled, ...label, '--image', DEBIAN, '-v', `${PROFILE}:/etc/profile.d/aca.sh:ro`]);
    // No user@ before it: the uid may have no passwd entry.
    await withProfile.waitFor(new RegExp(`(?<!@)${profiled}:/workspace[#$] `), START_MS);
    withProfile.type('exit\r');
    expect((await withProfile.exited).exitCode).toBe(0);
  });
});
