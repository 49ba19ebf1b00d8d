/** Helpers shared by command modules for declaring flags. */

/** For repeatable flags: -e A -e B → ['A', 'B']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --detach-keys, on every command that attaches a terminal (see src/sessions/detach-keys.ts). */
export const DETACH_KEYS_FLAG = '--detach-keys <keys>';
export const DETACH_KEYS_HELP = 'keys that detach (default: the config\'s detachKeys, else ctrl-p,ctrl-q)';
