/**
 * The keys that detach a terminal from a session: --detach-keys, else the configuration's detachKeys, else
 * Ctrl-P Ctrl-Q. For the commands that attach to an existing session (exec, attach, shell SESSION); a new
 * session gets them from resolveRun, which has the configuration loaded already.
 */
import type { Context } from '../context.js';

export async function resolveDetachKeys(ctx: Context, flag: string | undefined): Promise<Buffer> {
  const { DEFAULT_DETACH_KEYS, parseDetachKeys } = await import('../terminal.js');
  if (flag !== undefined) return parseDetachKeys(flag, '--detach-keys');
  const { loadConfig } = await import('../config/load.js');
  const { values } = await loadConfig({ workspace: ctx.cwd, env: ctx.env, warn: (m) => ctx.out.warn(m) });
  return parseDetachKeys(values.detachKeys ?? DEFAULT_DETACH_KEYS, 'detachKeys');
}
