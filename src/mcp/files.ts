/**
 * Files in an environment, confined to /workspace. The client's path is normalised on the host (paths.ts); inside
 * the session, as the session's own user, a script walks it one directory at a time from /workspace, `cd -P` into
 * each and checks with `pwd -P` that it is still under /workspace, so a symbolic link that leaves is refused. The
 * walk holds each directory it entered (its cwd), so renaming links behind it changes nothing; and since every step
 * runs with the session's own rights inside the session, no race can reach anything the session could not anyway.
 * The last component is never followed when it is a link (read and write refuse it; delete removes the link).
 */
import type { Engine } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { WORKSPACE_PATH } from '../security.js';
import { workspacePath } from './paths.js';

const WALK = `set -u
op="$1"; max="$2"; n="$3"; shift 3
cd -P ${WORKSPACE_PATH} 2>/dev/null || exit 3
i=0
while [ "$i" -lt "$n" ]; do
  c="$1"; shift; i=$((i + 1))
  if [ ! -e "$c" ] && [ ! -L "$c" ]; then
    if [ "$op" = write ]; then mkdir -- "$c" || exit 10; else exit 3; fi
  fi
  cd -P -- "$c" 2>/dev/null || exit 9
  case "$(pwd -P)/" in ${WORKSPACE_PATH}/*) ;; *) exit 4;; esac
done
b="\${1-}"
case "$op" in
read)
  [ -L "$b" ] && exit 5; [ -d "$b" ] && exit 6; [ -f "$b" ] || exit 7
  wc -c < "$b" >&2; head -c "$max" < "$b" ;;
write)
  [ -L "$b" ] && exit 5; [ -d "$b" ] && exit 6
  cat > "$b" || exit 11 ;;
delete)
  [ -e "$b" ] || [ -L "$b" ] || exit 7
  if [ -d "$b" ] && [ ! -L "$b" ] && [ "$max" != recursive ]; then rmdir -- "$b" 2>/dev/null || exit 8; else rm -rf -- "$b" || exit 11; fi ;;
list)
  count=0
  for f in * .[!.]* ..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case "$f" in *'
'*) continue;; esac
    count=$((count + 1)); [ "$count" -gt "$max" ] && { echo more; break; }
    if [ -L "$f" ]; then t=link; elif [ -d "$f" ]; then t=dir; elif [ -f "$f" ]; then t=file; else t=other; fi
    s=$(stat -c %s -- "$f" 2>/dev/null || echo 0)
    printf '%s\\t%s\\t%s\\n' "$t" "$s" "$f"
  done ;;
esac`;

function reason(code: number, shown: string, stderr: string): string {
  switch (code) {
    case 3: return `${shown}: no such directory in the workspace`;
    case 4: return `${shown}: a symbolic link on the way leaves ${WORKSPACE_PATH}; refused`;
    case 5: return `${shown} is a symbolic link; links are not followed (name the file it points to)`;
    case 6: return `${shown} is a directory`;
    case 7: return `${shown}: no such file in the workspace`;
    case 8: return `${shown} is a directory that is not empty; pass recursive: true to delete it`;
    case 9: return `${shown}: a part of the path is not a directory`;
    default: return `${shown}: ${stderr.trim().split('\n').pop() || `failed (exit ${code})`}`;
  }
}

async function walk(engine: Engine, containerId: string, op: string, given: string, extra: string, input?: Buffer, last = true) {
  const path = workspacePath(given);
  const parts = path === WORKSPACE_PATH ? [] : path.slice(WORKSPACE_PATH.length + 1).split('/');
  if (last && parts.length === 0) throw new AcaError(`${op}: the path names the workspace itself; name a file in it`);
  const dirs = last ? parts.slice(0, -1) : parts;
  const cmd = ['/bin/sh', '-c', WALK, 'aca-mcp-files', op, extra, String(dirs.length), ...dirs, ...(last ? [parts[parts.length - 1]!] : [])];
  const result = await engine.execWithInput(containerId, { cmd, input });
  if (result.exitCode !== 0) throw new AcaError(reason(result.exitCode, path, result.stderr.toString('utf8')));
  return { path, ...result };
}

export interface ReadResult {
  path: string;
  size: number;
  content: string;
  encoding: 'utf8' | 'base64';
  truncated: boolean;
}

export async function readFile(engine: Engine, containerId: string, given: string, maxBytes: number, encoding?: 'utf8' | 'base64'): Promise<ReadResult> {
  const { path, stdout, stderr } = await walk(engine, containerId, 'read', given, String(maxBytes));
  const size = Number(stderr.toString('utf8').trim()) || stdout.length;
  const text = stdout.toString('utf8');
  // Text that does not survive a round trip through UTF-8 (binary) comes back as base64.
  const binary = encoding === 'base64' || (encoding === undefined && (stdout.includes(0) || !Buffer.from(text, 'utf8').equals(stdout)));
  return { path, size, content: binary ? stdout.toString('base64') : text, encoding: binary ? 'base64' : 'utf8', truncated: size > stdout.length };
}

export async function writeFile(engine: Engine, containerId: string, given: string, content: Buffer): Promise<string> {
  return (await walk(engine, containerId, 'write', given, '', content)).path;
}

export async function deleteFile(engine: Engine, containerId: string, given: string, recursive: boolean): Promise<string> {
  return (await walk(engine, containerId, 'delete', given, recursive ? 'recursive' : '')).path;
}

export interface Entry {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
}

export async function listDir(engine: Engine, containerId: string, given: string, maxEntries: number): Promise<{ path: string; entries: Entry[]; more: boolean }> {
  const { path, stdout } = await walk(engine, containerId, 'list', given, String(maxEntries), undefined, false);
  const lines = stdout.toString('utf8').split('\n').filter(Boolean);
  const more = lines[lines.length - 1] === 'more';
  const entries = (more ? lines.slice(0, -1) : lines).map((line) => {
    const [type, size, ...name] = line.split('\t');
    return { name: name.join('\t'), type: type as Entry['type'], size: Number(size) || 0 };
  });
  return { path, entries, more };
}
