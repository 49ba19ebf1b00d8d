/** The flags that shape a new session, shared by `run` and `shell`. */
import { type Command, Option } from 'commander';
import type { Context } from '../src/context.js';
import type { ResolvedRun, RunFlags } from '../src/sessions/options.js';
import type { RunRequest } from '../src/sessions/run.js';
import { collect } from './options.js';
import { addSecurityOptions } from './security-options.js';


/** Every flag of a new session, on `run` and `shell`. */
export function addSessionOptions(command: Command): Command {
  return addSecurityOptions(command)
    // Docker users type --rm out of habit; it is what aca does anyway.
    .addOption(new Option('--rm', 'remove the session when it exits (the default; --keep keeps it); a copy-mode run whose workspace changed is kept for review unless --rm says to discard it').conflicts('keep'))
    .option('--image <image>', 'image to run (default: config, else aca/base:full)')
    .option('--name <name>', 'session name (default: generated)')
    .option('--workspace <dir>', 'host directory mounted at /workspace (default: current directory)')
    .option('--no-workspace', 'mount no workspace')
    .option('--workspace-ro', 'mount the workspace read-only')
    .option('-e, --env <K=V|K>', 'set a variable; K alone takes the host value (repeatable)', collect, [])
    .option('--env-file <file>', 'read variables from a file (repeatable)', collect, [])
    .option('-v, --volume <src:dst[:ro]>', 'bind a host path or volume (repeatable)', collect, [])
    .option('--label <K=V>', 'add a label (repeatable)', collect, [])
    .option('-p, --publish <[ip:]host:container>', 'publish a port, on 127.0.0.1 unless an address is given (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'run as this user (default: owner of the workspace)')
    .option('-w, --workdir <dir>', 'working directory inside, an absolute path (default: /workspace)')
    .option('--network <none|bridge|NAME>', 'network to join (default: aca-isolated, a shared bridge with inter-container traffic off; Podman: one per session)')
    .option('--memory <size>', 'memory limit, e.g. 512m, 4g (default 4g)')
    .option('--cpus <n>', 'CPU limit, e.g. 1.5 (default: 2, at most the host\'s)')
    .option('--pids <n>', 'process limit (default 1024)')
    .option('--disk <size>', 'limit on what the session writes to the engine\'s disk: home, copy-mode workspace, writable root (default 10g; checked every 10 s)')
    .option('--no-build', 'never build aca\'s base image; fail if it is missing')
    .option('--base <image>', 'FROM image when aca\'s base image must be built')
    .option('--ca-certs <file>', 'CA bundle the session trusts (default: the host bundle named by NODE_EXTRA_CA_CERTS or SSL_CERT_FILE)')
    .option('--workspace-mode <bind|ro|copy>', 'bind the workspace (default), read-only, or work on a copy (see aca diff / aca export)')
    .option('--respect-gitignore', 'copy mode: leave out what the workspace\'s .gitignore ignores (.acaignore always applies)')
    .option('--cache <name[:path]>', 'mount a shared cache volume: npm, pip, cargo, go, apt, ... or NAME:/path (repeatable)', collect, [])
    .option('--from-checkpoint <name>', 'start from a checkpoint (aca checkpoint ls)')
    .option('--health-cmd <cmd>', 'health check: a shell command run inside; exit 0 is healthy')
    .option('--health-interval <duration>', 'time between health checks (default 5s)')
    .option('--health-timeout <duration>', 'a check that takes longer fails (default 5s)')
    .option('--health-start-period <duration>', 'failures in this first period do not count (default 10s)')
    .option('--health-retries <n>', 'consecutive failures that make the session unhealthy (default 3)')
    .option('--on-unhealthy <restart|stop|none>', 'what aca monitor --supervise does when it turns unhealthy (default none)')
    .option('--devcontainer <name|path>', 'use this devcontainer.json (a .devcontainer/NAME folder or a path; default: the workspace\'s, when no image is named)')
    .option('--no-devcontainer', 'ignore the workspace\'s devcontainer.json')
    .option('--strict', 'refuse a devcontainer.json with properties aca does not support, instead of skipping them')
    .option('--record', 'append every monitor sample of this session to its history (aca monitor --history)')
    .option('--agent <name>', 'run a coding agent: claude, codex, or one from your configuration (its args after --)')
    .option('--agent-login', "with --agent: copy the agent's subscription login from your home into the session (instead of an API key)")
    .option('--branch <name>', 'work on a copy of the repository on a new branch NAME (see aca diff, aca merge)')
    .option('--include-uncommitted', "with --branch: start from the working tree's changes too, as a first commit");
}

/** What `run` and `shell` both ask of runSession for the session their flags resolved to. */
export function sessionRequest(ctx: Context, resolved: ResolvedRun, flags: RunFlags): RunRequest {
  return {
    spec: resolved.spec,
    // A branch session's work is its branch: it stays until merged and removed.
    keep: Boolean(flags.keep || flags.branch),
    noBuild: resolved.noBuild,
    base: resolved.base,
    detachKeys: resolved.detachKeys,
    fromCheckpoint: flags.fromCheckpoint,
    // --record (or the config's monitor.record): the monitor samples the session while it runs.
    record: async (engine, id, name) => (await import('../src/monitor/recorder.js')).startRecorder(ctx, engine, id, name, resolved.config.values.monitor),
    devcontainer: resolved.devcontainer,
  };
}
