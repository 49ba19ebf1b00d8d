import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitProtection, parseGitConfig, removeGitPlaceholders } from '../../src/security/git.js';

const made: string[] = [];
afterEach(() => { for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true }); });
function dir(prefix = 'aca-git-'): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(d);
  return d;
}
/** No global or system git config of the machine running the tests. */
const env = () => ({ HOME: dir('aca-home-'), XDG_CONFIG_HOME: undefined });

describe('git protection', () => {
  it('mounts the .git directory as a whole, read-only', () => {
    const ws = dir();
    mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\tbare = false\n');
    expect(gitProtection(ws, env())).toEqual({ mounts: [{ source: join(ws, '.git'), target: '/workspace/.git' }], notes: [] });
  });
  it('puts an empty read-only placeholder where there is no .git, and removes only an empty one afterwards', () => {
    const ws = dir();
    expect(gitProtection(ws, env()).mounts).toEqual([{ placeholder: join(ws, '.git'), target: '/workspace/.git' }]);
    mkdirSync(join(ws, '.git'));
    removeGitPlaceholders([join(ws, '.git')], ws);
    expect(existsSync(join(ws, '.git'))).toBe(false);
    mkdirSync(join(ws, '.git'));
    writeFileSync(join(ws, '.git', 'kept'), '');
    removeGitPlaceholders([join(ws, '.git'), '/etc/ssl'], ws);
    expect(existsSync(join(ws, '.git', 'kept'))).toBe(true);
  });
  it('takes an empty root-owned .git (a mount point left behind) for a placeholder again', () => {
    const ws = dir();
    mkdirSync(join(ws, '.git'));
    const expected = process.getuid?.() === 0 ? { placeholder: join(ws, '.git'), target: '/workspace/.git' } : { source: join(ws, '.git'), target: '/workspace/.git' };
    expect(gitProtection(ws, env()).mounts).toEqual([expected]);
  });
  it('refuses a .git that is a symbolic link, naming it', () => {
    const ws = dir();
    symlinkSync(dir(), join(ws, '.git'));
    expect(() => gitProtection(ws, env())).toThrow(`workspace ${join(ws, '.git')}: refused: .git is a symbolic link`);
  });
  it('never reads a config that is a link, and never follows links inside .git', () => {
    const ws = dir();
    const host = dir('aca-host-');
    mkdirSync(join(ws, '.git'));
    writeFileSync(join(host, 'config'), '[core]\n\thooksPath = hooks\n');
    symlinkSync(join(host, 'config'), join(ws, '.git', 'config'));
    symlinkSync(host, join(ws, '.git', 'hooks'));
    expect(gitProtection(ws, env()).mounts).toEqual([{ source: join(ws, '.git'), target: '/workspace/.git' }]);
  });
  it('makes what core.hooksPath names read-only as its top directory in the workspace, or a placeholder', () => {
    const ws = dir();
    mkdirSync(join(ws, '.git'));
    mkdirSync(join(ws, '.husky'));
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\thooksPath = ".husky/_" ; husky\n');
    const plan = gitProtection(ws, env());
    expect(plan.mounts).toContainEqual({ source: join(ws, '.husky'), target: '/workspace/.husky' });
    expect(plan.notes).toEqual([`.husky is read-only in this session: core.hooksPath (.husky/_) in ${join(ws, '.git', 'config')}`]);
    writeFileSync(join(ws, '.git', 'config'), '[Core]\n\tHooksPath = tools/git/hooks\n');
    expect(gitProtection(ws, env()).mounts).toContainEqual({ placeholder: join(ws, 'tools'), target: '/workspace/tools' });
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\thooksPath = .\n');
    expect(() => gitProtection(ws, env())).toThrow(/core.hooksPath \(.\) .* names the workspace itself/);
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\thooksPath = /usr/share/hooks\n');
    expect(gitProtection(ws, env()).mounts).toHaveLength(1);
  });
  it('follows includes that live in the workspace (an agent could write them), and the user\'s hooksPath', () => {
    const ws = dir();
    const home = env();
    mkdirSync(join(ws, '.git'));
    writeFileSync(join(ws, '.git', 'config'), '[include]\n\tpath = ../project.gitconfig\n[includeIf "gitdir:~/"]\n\tpath = /etc/other\n');
    writeFileSync(join(ws, 'project.gitconfig'), '[core]\n\thooksPath = githooks\n');
    writeFileSync(join(home.HOME, '.gitconfig'), '[core]\n\thooksPath = .hooks\n');
    const targets = gitProtection(ws, home).mounts.map((m) => m.target);
    expect(targets).toEqual(['/workspace/.git', '/workspace/.hooks', '/workspace/project.gitconfig', '/workspace/githooks']);
  });
  it('mounts a worktree\'s .git file, its git directory and commondir, when the git directory names it back', () => {
    const main = dir('aca-main-');
    const ws = dir();
    mkdirSync(join(main, '.git', 'worktrees', 'wt'), { recursive: true });
    writeFileSync(join(main, '.git', 'config'), '');
    writeFileSync(join(main, '.git', 'worktrees', 'wt', 'commondir'), '../..\n');
    writeFileSync(join(main, '.git', 'worktrees', 'wt', 'gitdir'), `${join(ws, '.git')}\n`);
    writeFileSync(join(ws, '.git'), `gitdir: ${join(main, '.git', 'worktrees', 'wt')}\n`);
    expect(gitProtection(ws, env()).mounts).toEqual([
      { source: join(ws, '.git'), target: '/workspace/.git' },
      { source: join(main, '.git'), target: join(main, '.git') },
    ]);
    // A .git file naming a directory that does not name it back (e.g. another project's repository) is not followed.
    const other = dir('aca-other-');
    mkdirSync(join(other, '.git'));
    writeFileSync(join(ws, '.git'), `gitdir: ${join(other, '.git')}\n`);
    const plan = gitProtection(ws, env());
    expect(plan.mounts).toEqual([{ source: join(ws, '.git'), target: '/workspace/.git' }]);
    expect(plan.notes[0]).toMatch(/does not name this workspace back: only the \.git file is mounted/);
  });
  it('reads core.hooksPath and includes from git config text', () => {
    expect(parseGitConfig('[core]\n  hooksPath = a\n[core] hookspath = "b c" # x\n[include]\npath = one\n[includeIf "onbranch:main"]\n  path = two\n'))
      .toEqual({ hooksPath: 'b c', includes: ['one', 'two'] });
    expect(parseGitConfig('[remote "origin"]\n  hooksPath = no\n')).toEqual({ includes: [] });
  });
});
