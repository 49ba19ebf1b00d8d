/** Every subcommand, in the order `aca --help` lists them. Each module only declares flags. */
import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';
import { register as run } from './run.js';
import { register as exec } from './exec.js';
import { register as build } from './build.js';
import { register as ps } from './ps.js';
import { registerStop, registerStart, registerRm } from './lifecycle.js';
import { register as logs } from './logs.js';
import { register as config } from './config.js';
import { register as shell } from './shell.js';
import { register as attach } from './attach.js';
import { register as monitor } from './monitor.js';
import { register as gc } from './gc.js';
import { register as diff } from './diff.js';
import { register as checkpoint } from './checkpoint.js';
import { register as exportCommand } from './export.js';
import { register as inspect } from './inspect.js';
import { register as audit } from './audit.js';
import { register as doctor } from './doctor.js';

export const COMMANDS: Array<(program: Command, host: CommandHost) => void> = [
  run, exec, shell, attach, build, ps, registerStop, registerStart, registerRm, logs, inspect, monitor, diff, exportCommand, checkpoint, gc, audit, config, doctor,
];
