import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, openSync, readSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { acaBytes, bindableDir, labelled, spawnAca } from '../helpers/aca.js';
import { TEST_IMAGE, inspectSession, sessionExists } from '../helpers/engine.js';
import { engineSuite, hasEngine, underGvisor } from './setup.js';

describe.skipIf(!hasEngine)('aca run', () => {
  const { aca, runId, workspace } = engineSuite();
  const run = (cmd: string[], extra: string[] = [], options = {}) => aca(['run', '--image', TEST_IMAGE, ...extra, '--', ...cmd], options);

  it('propagates exit codes 0, 42, 126 and 127', async () => {
    expect((await run(['true'])).exitCode).toBe(0);
    expect((await run(['sh', '-c', 'exit 42'])).exitCode).toBe(42);
    const notExecutable = await run(['/etc/passwd']);
    expect(notExecutable.exitCode).toBe(126);
    const missing = await run(['no-such-command']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('no-such-command');
  });

  it('keeps stdout apart from stderr, byte for byte', async () => {
    const result = await run(['sh', '-c', 'printf "out1\\n"; printf "err1\\n" >&2; printf "out2"']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('out1\nout2');
    expect(result.stderr).toBe('err1\n');
  });

  it('round-trips megabytes of binary stdin with -i, and EOF ends the command', async () => {
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    const result = await acaBytes(labelled(['run', '-i', '--image', TEST_IMAGE, '--', 'cat'], runId), { cwd: workspace, input: blob });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBe(blob.length);
    expect(result.stdout.equals(blob)).toBe(true);
  });

  it('removes its session when the reader of its stderr goes away mid-run (aca --debug run ... 2>&1 | head)', async () => {
    const name = `gone-reader-${runId}`;
    const child = spawnAca(labelled(['--debug', 'run', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', 'sleep 1; echo done'], runId), { cwd: workspace });
    // The first debug line has arrived: close the pipe, so every later line aca writes meets EPIPE.
    await new Promise<void>((resolve) => child.stderr!.once('data', () => { child.stderr!.destroy(); resolve(); }));
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(Buffer.from(result.stdout as Uint8Array).toString()).toBe('done\n');
    expect(await sessionExists(name)).toBe(false);
  });

  it('forwards a file on stdin from where its reader left it, byte for byte', async () => {
    // A regular file is read in large chunks (src/stdin.ts), not through process.stdin: it must start at the fd's offset.
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(mkdtempSync(join(tmpdir(), 'aca-stdin-')), 'input.bin');
    writeFileSync(file, blob);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, Buffer.alloc(5), 0, 5, null);
      const result = await acaBytes(labelled(['run', '-i', '--image', TEST_IMAGE, '--', 'cat'], runId), { cwd: workspace, stdinFd: fd });
      expect(result.exitCode).toBe(0);
      expect(result.stdout.length).toBe(blob.length - 5);
      expect(result.stdout.equals(blob.subarray(5))).toBe(true);
    } finally {
      closeSync(fd);
      rmSync(join(file, '..'), { recursive: true, force: true });
    }
  });

  it('does not read stdin without -i, and has no TTY without -t', async () => {
    const result = await run(['sh', '-c', 'if [ -t 1 ]; then echo tty; else echo notty; fi; cat; echo end'], [], { input: 'should not arrive' });
    expect(result.stdout).toBe('notty\nend\n');
  });

  it('refuses -t without a terminal', async () => {
    const result = await run(['true'], ['-t']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/-t needs a terminal/);
  });

  it('mounts the workspace at /workspace as its owner, and removes the session afterwards', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'aca-owner-'));
    chownSync(ws, 1234, 2345);
    const result = await run(['sh', '-c', 'pwd; id -u; id -g; echo hello > made-inside; echo $HOME; touch $HOME/ok && echo home-writable'], ['--name', `own-${runId}`], { cwd: ws });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('/workspace\n1234\n2345\n/home/aca\nhome-writable\n');
    const made = statSync(join(ws, 'made-inside'));
    expect([made.uid, made.gid]).toEqual([1234, 2345]);
    expect(readFileSync(join(ws, 'made-inside'), 'utf8')).toBe('hello\n');
    expect(await sessionExists(`own-${runId}`)).toBe(false);
  });

  it('copies a root-owned workspace in, says so, and runs it as a non-root user with no capabilities at all', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'aca-root-'));
    try {
      const result = await run(['sh', '-c', 'id -u; grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status; grep NoNewPrivs /proc/self/status; touch made-inside'], [], { cwd: ws });
      // gVisor's /proc/PID/status has no NoNewPrivs line (runsc 0.0~20221219): the flag is read back from the
      // container's configuration in the next test instead.
      const noNewPrivs = underGvisor ? '' : 'NoNewPrivs:\t1\n';
      expect(result.stdout).toBe(`1000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n${noNewPrivs}`);
      expect(result.stderr).toMatch(/^aca: the workspace is owned by root, so it is copied in \(a session never writes a host workspace as root\)/);
      expect(existsSync(join(ws, 'made-inside'))).toBe(false);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('applies the secure defaults and limits, read back through inspect', async () => {
    const name = `secure-${runId}`;
    const result = await run(['true'], ['--name', name, '--keep', '--memory', '256m', '--cpus', '0.5', '--pids', '177']); // gVisor needs at least 128
    expect(result.exitCode).toBe(0);
    const info = await inspectSession(name);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(5e8);
    expect(info.HostConfig.PidsLimit).toBe(177);
    expect(info.Config.Labels).toMatchObject({ 'aca.managed': 'true', 'aca.session': name, 'aca.workspace': workspace });
    // --keep asks to outlive aca, so no owner process is recorded: it can never be an orphan.
    expect(info.Config.Labels!['aca.mode']).toBe('kept');
    expect(info.Config.Labels).not.toHaveProperty('aca.owner.pid');
  });

  it('gives every session limits even when none are asked for', async () => {
    const name = `defaults-${runId}`;
    await run(['true'], ['--name', name, '--keep']);
    const info = await inspectSession(name);
    expect(info.HostConfig.Memory).toBeGreaterThan(0);
    expect(info.HostConfig.NanoCpus).toBeGreaterThan(0);
    expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
  });

  it('passes -e K=V, -e K from the host, and --env-file', async () => {
    writeFileSync(join(workspace, 'vars.env'), '# comment\nFROM_FILE=file value\n\nexport EXPORTED=yes\n');
    const result = await run(['sh', '-c', 'echo "$A|$FROM_HOST|$FROM_FILE|$EXPORTED|${UNSET-unset}"'], ['-e', 'A=1=2', '-e', 'FROM_HOST', '-e', 'UNSET_ON_HOST', '--env-file', 'vars.env'], {
      env: { FROM_HOST: 'host value' },
    });
    expect(result.stdout).toBe('1=2|host value|file value|yes|unset\n');
  });

  it('mounts -v paths, read-only when asked, and refuses a missing source instead of creating it', async () => {
    const data = bindableDir('aca-vol-');
    writeFileSync(join(data, 'f'), 'data');
    const ok = await run(['sh', '-c', 'cat /data/f; echo x > /data/g 2>/dev/null && echo wrote || echo readonly'], ['-v', `${data}:/data:ro`]);
    expect(ok.stdout).toBe('datareadonly\n');
    const missing = await run(['true'], ['-v', '/no/such/dir:/x']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('/no/such/dir');
  });

  it('honours --workspace-ro and --no-workspace', async () => {
    const ro = await run(['sh', '-c', 'touch /workspace/x 2>/dev/null && echo wrote || echo readonly'], ['--workspace-ro']);
    expect(ro.stdout).toBe('readonly\n');
    const none = await run(['sh', '-c', 'ls /workspace 2>/dev/null || echo none; pwd; id -u'], ['--no-workspace']);
    expect(none.stdout).toBe('none\n/\n1000\n');
  });

  it('publishes ports on 127.0.0.1 unless an address is given', async () => {
    const name = `ports-${runId}`;
    await run(['true'], ['--name', name, '--keep', '-p', '18080:80', '-p', '0.0.0.0:18081:81/udp']);
    const info = await inspectSession(name);
    const bindings = info.HostConfig.PortBindings as Record<string, Array<{ HostIp: string; HostPort: string }>>;
    expect(bindings['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '18080' }]);
    expect(bindings['81/udp']).toEqual([{ HostIp: '0.0.0.0', HostPort: '18081' }]);
  });

  it('kills the command after --timeout with exit 124 and removes the session', async () => {
    const name = `timeout-${runId}`;
    const result = await run(['sleep', '30'], ['--name', name, '--timeout', '1s']);
    expect(result.exitCode).toBe(124);
    expect(result.stderr).toMatch(/timed out after 1s/);
    expect(await sessionExists(name)).toBe(false);
  });

  it('joins --network none', async () => {
    const result = await run(['sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'], ['--network', 'none']);
    expect(result.stdout).toBe('lo ');
  });

  it('refuses invalid limits as usage errors, before creating anything', async () => {
    for (const [flag, value] of [['--memory', 'lots'], ['--cpus', '-1'], ['--pids', '0'], ['--timeout', 'soon']] as const) {
      const result = await run(['true'], [flag, value]);
      expect(result.exitCode, `${flag} ${value}`).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(flag);
    }
  });

  it('refuses to build with --no-build when aca\'s base image is missing', async () => {
    const result = await aca(['run', '--no-build', '--image', 'aca/base:alpine', '--', 'true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(/aca\/base:alpine.*--no-build/);
  });

  it('fails with 125 for an image that is neither local nor pullable', async () => {
    const result = await aca(['run', '--image', 'aca-test/does-not-exist:1', '--', 'true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain('aca-test/does-not-exist:1');
  });

  it('says so when the workspace is not a directory', async () => {
    mkdirSync(join(workspace, 'sub'), { recursive: true });
    const result = await aca(['run', '--workspace', join(workspace, 'nope'), '--image', TEST_IMAGE, 'true']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(join(workspace, 'nope'));
  });

  it('takes -w as the working directory inside, as docker and aca exec do; a host path the old way is one clear line', async () => {
    const inside = await aca(['run', '-w', '/tmp', '--image', TEST_IMAGE, '--', 'pwd']);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout.trim()).toBe('/tmp');
    const shell = await aca(['shell', '-w', '/tmp', '--new', '--image', TEST_IMAGE], { input: 'pwd\n' });
    expect(shell.exitCode, shell.stderr).toBe(0);
    expect(shell.stdout.trim()).toBe('/tmp');
    for (const args of [['run', '-w', '.', '--image', TEST_IMAGE, 'true'], ['shell', '--new', '-w', '.', '--image', TEST_IMAGE]]) {
      const old = await aca(args);
      expect(old.exitCode, old.stderr).toBe(2);
      expect(old.stderr.trim().split('\n')).toEqual(['aca: -w/--workdir "." is not an absolute path inside the session: -w is now --workdir, as in docker and aca exec; for the host directory use --workspace .']);
    }
    // An absolute host directory under the user's home, the old way: docker's meaning, and a line saying how to mount it.
    const home = mkdtempSync(join(tmpdir(), 'aca-home-'));
    try {
      const project = join(home, 'proj');
      mkdirSync(project);
      const habit = await aca(['run', '-w', project, '--image', TEST_IMAGE, '--', 'pwd'], { env: { HOME: home } });
      if (underGvisor) {
        // runc makes a working directory the image lacks; gVisor does not, and aca says so rather than "not found".
        expect(habit.exitCode, habit.stderr).toBe(127);
        expect(habit.stderr).toMatch(new RegExp(`^aca: working directory ${project} does not exist in session \\S+; gVisor does not create it`, 'm'));
      } else {
        expect(habit.exitCode, habit.stderr).toBe(0);
        expect(habit.stdout.trim()).toBe(project);
      }
      expect(habit.stderr).toContain(`aca: warning: -w/--workdir ${project} is a directory inside the session (as in docker); to mount that host directory use --workspace ${project}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
