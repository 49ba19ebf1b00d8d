/** Docker habits and everyday use: --format, ps -q, ls, --rm, completion, hostname, shell offers, config, audit, run's notices. */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEST_IMAGE, inspectSession, sessionExists } from '../helpers/engine.js';
import { ACA_BIN } from '../helpers/aca.js';
import { engineKind, engineSuite, expectOk, hasEngine } from './setup.js';

const onPath = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const strip = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

describe.skipIf(!hasEngine)('everyday habits', () => {
  const { aca, runId, workspace } = engineSuite();
  const name = `hab-${runId}`;
  const checkpoint = `hab-ck-${runId}`;

  beforeAll(async () => {
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
  });
  afterAll(async () => {
    await aca(['checkpoint', 'rm', checkpoint]);
  });

  it('ps: columns aligned with colour on, -q prints ids, --format fields, json and table, ls is ps', async () => {
    const coloured = await aca(['ps'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(coloured.stdout).toContain('\x1b[');
    const lines = strip(coloured.stdout).split('\n');
    const header = lines[0]!;
    const row = lines.find((l) => l.startsWith(`${name} `))!;
    // Every column after the coloured STATE starts where its header does.
    for (const column of ['STATE', 'STATUS', 'HEALTH', 'WORKSPACE']) {
      const at = header.indexOf(column);
      expect(row.slice(at - 1, at + 1), `${column} in ${JSON.stringify(row)}`).toMatch(/^ \S/);
    }
    const id = (await inspectSession(name)).Id.slice(0, 12);
    expect((await aca(['ps', '-q'])).stdout.split('\n')).toContain(id);
    expect((await aca(['ps', '--format', '{{.Name}}\\t{{.State}}'])).stdout.split('\n')).toContain(`${name}\trunning`);
    const json = (await aca(['ps', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; id: string });
    expect(json.find((s) => s.name === name)?.id).toBe(id);
    const table = (await aca(['ls', '--format', 'table {{.Name}}\\t{{.Image}}'])).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+IMAGE$/);
    expect(table.find((l) => l.startsWith(name))).toMatch(new RegExp(`^${name}\\s+${TEST_IMAGE.replace(':latest', '')}`));
    const bad = await aca(['ps', '--format', '{{.Nope}}']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^aca: --format: no field "Nope" \(fields: Name, Id, /);
  });

  it('inspect and checkpoint ls take --format', async () => {
    expect((await aca(['inspect', name, '--format', '{{.Name}} {{.State}} {{json .Networks}}'])).stdout).toMatch(new RegExp(`^${name} running \\["`));
    expect(JSON.parse((await aca(['inspect', name, '--format', 'json'])).stdout).name).toBe(name);
    expect((await aca(['inspect', name, '--security', '--format', '{{.Privileged}}'])).stdout).toBe('false\n');
    expectOk(await aca(['checkpoint', name, '--name', checkpoint]));
    expect((await aca(['checkpoint', 'ls', '--format', '{{.Name}} {{.Session}}'])).stdout.split('\n')).toContain(`${checkpoint} ${name}`);
  });

  it('run accepts --rm (removal is the default), refuses it with --keep, and help shows no (default: [])', async () => {
    const rm = `rm-${runId}`;
    expectOk(await aca(['run', '--rm', '--name', rm, '--image', TEST_IMAGE, '--', 'true']));
    expect(await sessionExists(rm)).toBe(false);
    const both = await aca(['run', '--rm', '--keep', '--image', TEST_IMAGE, '--', 'true']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("'--rm' cannot be used with option '--keep'");
    const help = (await aca(['run', '--help'])).stdout;
    expect(help).toMatch(/--rm\s+remove the session when it exits \(the default; --keep keeps it\)/);
    expect(help).toContain('(repeatable)');
    expect(help).not.toContain('(default: [])');
  });

  it('completion for bash completes commands, aliases, flags and session names', async () => {
    const script = join(workspace, 'aca.bash');
    writeFileSync(script, (await aca(['completion', 'bash'])).stdout);
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _aca; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dirname(ACA_BIN)}:${process.env.PATH}` },
      }).trim().split('\n');
    expect(complete(['aca', '--engine', engineKind, 'l'])).toEqual(['ls', 'logs']);
    expect(complete(['aca', 'ps', '--fo'])).toEqual(['--format']);
    expect(complete(['aca', 'run', '--r'])).toEqual(expect.arrayContaining(['--rm', '--runtime']));
    expect(complete(['aca', 'attach', name.slice(0, -2)])).toContain(name);
    // Every command `aca --help` lists is in each script.
    const commands = [...(await aca(['--help'])).stdout.matchAll(/^  (\w+)(?:\|(\w+))?/gm)].flatMap((m) => [m[1]!, m[2]].filter(Boolean) as string[]);
    expect(commands).toEqual(expect.arrayContaining(['run', 'ps', 'ls', 'completion', 'doctor']));
    for (const shell of ['zsh', 'fish']) {
      const text = (await aca(['completion', shell])).stdout;
      for (const command of commands.filter((c) => c !== 'help')) expect(text, `${shell}: ${command}`).toContain(command);
    }
    const bad = await aca(['completion', 'tcsh']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('aca: completion: unknown shell "tcsh" (use bash, zsh, fish)');
  });

  // zsh and fish are not on every machine: these run where they are installed (apt-get install zsh fish).
  it.skipIf(!onPath('fish'))('completion for fish completes commands, flags and session names (needs fish)', async () => {
    const script = join(workspace, 'aca.fish');
    writeFileSync(script, (await aca(['completion', 'fish'])).stdout);
    const complete = (line: string) =>
      execFileSync('fish', ['-c', `source ${script}; complete -C '${line}'`], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(ACA_BIN)}:${process.env.PATH}` } })
        .trim().split('\n').map((l) => l.split('\t')[0]);
    expect(complete('aca l')).toEqual(expect.arrayContaining(['ls', 'logs']));
    expect(complete('aca ps --fo')).toEqual(['--format']);
    expect(complete('aca checkpoint ')).toEqual(expect.arrayContaining(['ls', 'rm', name]));
  });

  it.skipIf(!onPath('zsh'))('completion for zsh is a valid zsh script that registers _aca (needs zsh)', async () => {
    const script = join(workspace, 'aca.zsh');
    writeFileSync(script, (await aca(['completion', 'zsh'])).stdout);
    execFileSync('zsh', ['-n', script]);
    expect(execFileSync('zsh', ['-c', `autoload -U compinit && compinit -u -D; source ${script}; print -r -- \${_comps[aca]}`], { encoding: 'utf8' }).trim()).toBe('_aca');
  });

  it('a session\'s hostname is its name', async () => {
    const named = `host-${runId}`;
    expect((await aca(['run', '--name', named, '--image', TEST_IMAGE, '--', 'hostname'])).stdout).toBe(`${named}\n`);
  });

  it('shell without a terminal names the running session of this workspace, then starts a new one; --new asks nothing', async () => {
    const offered = await aca(['shell', '--image', TEST_IMAGE], { input: 'hostname\n' });
    expectOk(offered);
    expect(offered.stderr).toContain(`aca: session ${name} runs on this workspace; starting a new one. To use it: aca shell ${name}`);
    expect(offered.stdout.trim()).not.toBe(name);
    const fresh = await aca(['shell', '--new', '--image', TEST_IMAGE], { input: 'hostname\n' });
    expectOk(fresh);
    expect(fresh.stderr).not.toContain('runs on this workspace');
  });

  it('config shows the network a session really joins on this engine', async () => {
    const network = (await aca(['config'])).stdout.split('\n').find((l) => l.startsWith('network'));
    expect(network).toContain(engineKind === 'podman' ? 'aca-<session>' : 'aca-isolated');
    // And that is where a session goes.
    const networks = JSON.parse((await aca(['inspect', name, '--format', '{{json .Networks}}'])).stdout) as string[];
    expect(networks).toEqual([engineKind === 'podman' ? `aca-${name}` : 'aca-isolated']);
  });

  it('audit --since takes the forms its help names, and refuses others in one line', async () => {
    for (const since of ['30m', '2h', '7d', '1h30m', '2025-01-31', '2025-01-31T12:00Z']) expectOk(await aca(['audit', '--since', since]));
    const bad = await aca(['audit', '--since', '1w']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('aca: --since: expected a duration ago (30m, 2h, 7d) or an ISO date (2025-01-31, 2025-01-31T12:00Z), got "1w"');
  });

  it('run with no command on an image whose default is a shell says no terminal was attached', async () => {
    const silent = await aca(['run', '--image', TEST_IMAGE]);
    expect(silent.exitCode).toBe(0);
    expect(silent.stderr).toContain('starts sh, and no terminal was attached');
    expect(silent.stderr).toContain('aca run -it');
    expect((await aca(['run', '--image', TEST_IMAGE, '--', 'true'])).stderr).not.toContain('no terminal');
  });
});
