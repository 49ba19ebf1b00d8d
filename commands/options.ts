/** Helpers shared by command modules for declaring flags. */
import type { Command } from 'commander';

/** For repeatable flags: -e A -e B → ['A', 'B']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The flags that shape a new session, shared by `run` (and later `shell`). */
export function addSessionOptions(command: Command): Command {
  return command
    .option('--image <image>', 'image to run (default: config, else aca/base:full)')
    .option('--name <name>', 'session name (default: generated)')
    .option('-w, --workspace <dir>', 'directory mounted at /workspace (default: current directory)')
    .option('--no-workspace', 'mount no workspace')
    .option('--workspace-ro', 'mount the workspace read-only')
    .option('-e, --env <K=V|K>', 'set a variable; K alone takes the host value (repeatable)', collect, [])
    .option('--env-file <file>', 'read variables from a file (repeatable)', collect, [])
    .option('-v, --volume <src:dst[:ro]>', 'bind a host path or volume (repeatable)', collect, [])
    .option('--label <K=V>', 'add a label (repeatable)', collect, [])
    .option('-p, --publish <[ip:]host:container>', 'publish a port, on 127.0.0.1 unless an address is given (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'run as this user (default: owner of the workspace)')
    .option('--workdir <dir>', 'working directory inside (default: /workspace)')
    .option('--network <none|bridge|NAME>', 'network to join (default: bridge)')
    .option('--memory <size>', 'memory limit, e.g. 512m, 4g (default 4g)')
    .option('--cpus <n>', 'CPU limit, e.g. 1.5 (default: 2, at most the host\'s)')
    .option('--pids <n>', 'process limit (default 1024)')
    .option('--no-build', 'never build aca\'s base image; fail if it is missing')
    .option('--base <image>', 'FROM image when aca\'s base image must be built')
    .option('--ca-certs <file>', 'CA bundle the session trusts (default: the host bundle named by NODE_EXTRA_CA_CERTS or SSL_CERT_FILE)');
}
