/** The flags that relax or extend a new session's security profile (see README "Security"). */
import type { Command } from 'commander';
import { collect } from './options.js';

export function addSecurityOptions(command: Command): Command {
  return command
    .option('--writable-root', 'keep the image\'s root filesystem writable (default: read-only)')
    .option('--cap-add <cap>', 'give back a capability; dangerous ones need --unsafe (repeatable)', collect, [])
    .option('--privileged', 'a privileged session (needs --unsafe)')
    .option('--unsafe', 'allow dangerous relaxations; warned about and recorded in the audit trail')
    .option('--isolation <container|gvisor|auto>', 'container: the engine\'s runtime; gvisor: gVisor\'s user-space kernel in between; auto: gvisor where the engine offers it (default: auto, env ACA_ISOLATION)')
    .option('--runtime <name>', 'another OCI runtime the engine lists (for gVisor, prefer --isolation gvisor)')
    .option('--no-protect-git', 'do not mount the workspace\'s .git/hooks and .git/config read-only')
    .option('--secret <NAME[=env:VAR|=file:PATH]>', 'deliver a secret as the file /run/secrets/NAME (repeatable)', collect, [])
    .option('--secret-env <NAME[=env:VAR|=file:PATH]>', 'a secret also exported as $NAME to the command only (repeatable)', collect, [])
    .option('--allow-host <host[:port]>', 'allow egress to this host (or *.suffix) through aca\'s proxy; nothing else is reachable (repeatable)', collect, [])
    .option('--egress-network <name>', 'network the egress proxy reaches out through (default: the engine\'s default bridge)');
}
