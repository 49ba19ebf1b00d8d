/** The user's own configuration directory: $XDG_CONFIG_HOME/aca, by default ~/.config/aca. The only trusted one. */
import { join } from 'node:path';

export function userConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'aca') : undefined;
}
