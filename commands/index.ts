/**
 * Every subcommand, in the order `aca --help` lists them. Each entry loads its module only when needed:
 * a run of `aca exec` declares exec's flags and nothing else, and pays for no other command's imports.
 */
import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export type Register = (program: Command, host: CommandHost) => void;

export interface CommandEntry {
  name: string;
  /** Other names it answers to (`aca ls` is `aca ps`). */
  aliases?: string[];
  load(): Promise<Register>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'run', load: async () => (await import('./run.js')).register },
  { name: 'exec', load: async () => (await import('./exec.js')).register },
  { name: 'shell', load: async () => (await import('./shell.js')).register },
  { name: 'attach', load: async () => (await import('./attach.js')).register },
  { name: 'build', load: async () => (await import('./build.js')).register },
  { name: 'ps', aliases: ['ls'], load: async () => (await import('./ps.js')).register },
  { name: 'stop', load: async () => (await import('./lifecycle.js')).registerStop },
  { name: 'start', load: async () => (await import('./lifecycle.js')).registerStart },
  { name: 'rm', load: async () => (await import('./lifecycle.js')).registerRm },
  { name: 'logs', load: async () => (await import('./logs.js')).register },
  { name: 'inspect', load: async () => (await import('./inspect.js')).register },
  { name: 'monitor', load: async () => (await import('./monitor.js')).register },
  { name: 'diff', load: async () => (await import('./diff.js')).register },
  { name: 'export', load: async () => (await import('./export.js')).register },
  { name: 'merge', load: async () => (await import('./merge.js')).register },
  { name: 'checkpoint', load: async () => (await import('./checkpoint.js')).register },
  { name: 'gc', load: async () => (await import('./gc.js')).register },
  { name: 'audit', load: async () => (await import('./audit.js')).register },
  { name: 'trust', load: async () => (await import('./trust.js')).register },
  { name: 'config', load: async () => (await import('./config.js')).register },
  { name: 'mcp', load: async () => (await import('./mcp.js')).register },
  { name: 'doctor', load: async () => (await import('./doctor.js')).register },
  { name: 'completion', load: async () => (await import('./completion.js')).register },
  { name: '__disk-guard', load: async () => (await import('./disk-guard.js')).register },
];
