/**
 * `aca run`: create a session, run its command in the foreground (or leave it
 * running detached), and always clean up: on exit, on error, on a signal.
 */
import type { ResolvedDevcontainer } from '../devcontainer/resolve.js';
import type { Context } from '../context.js';
import { type Engine, EngineApiError, EngineDownError, forwardInput, isConflict, isNotFound, type NetworkInspect, pumpOutput, recordingHead, startFailureVerdict } from '../engine/index.js';
import { AcaError, CommandExit, EngineError, EXIT, UsageError } from '../errors.js';
import { ensureImage } from '../images.js';
import { setLongTimeout, type LongTimer } from '../timers.js';
import { formatDetachKeys, runTerminal } from '../terminal.js';
import { commandDidNotStart, formatMiB, signalExitCode, terminalStartFailureVerdict, trapSignals, type ForwardedSignal } from './foreground.js';
import { containerName } from '../labels.js';
import { oomEventSince } from './oom.js';
import { auditCreate, deliverSecrets, needsIsolationFacts, prepareSecurity, releaseSecurity, secureBody, type Deliveries } from './secure-run.js';
import { LABEL } from '../labels.js';
import { createBody, type SessionSpec } from './spec.js';
import { WORKSPACE_PATH } from '../security.js';
import { hasSessionVolumes, prepareStorage, removeSessionVolumes, workspaceVolumeName } from './storage.js';
import { findCheckpoint, restoreVolumes, type Restore } from './checkpoint.js';
import { needsDiskGuard, takeDiskStop } from './disk-limit.js';
import { spawnDiskGuard } from './disk-guard.js';
import { ISOLATED_NETWORK, needsOwnNetwork } from './network.js';
import { placeholdersOf, removeGitPlaceholders } from '../security/git.js';
import { seedBranch } from './branch.js';
import { exclusionRules, markUnexported } from './manifest.js';

/** How long a command may take to exit after a forwarded signal before it is stopped. */
const SIGNAL_GRACE_MS = 10_000;

export interface RunRequest {
  spec: SessionSpec;
  /** Start from this checkpoint's filesystem and volumes. */
  fromCheckpoint?: string | undefined;
  /** The key sequence that detaches a terminal session (-t with -i). */
  detachKeys?: Buffer | undefined;
  keep: boolean;
  /** --rm: remove the session at exit even when its copy-mode workspace changed (the changes are discarded). */
  discard?: boolean | undefined;
  /** Copy mode: leave out what the workspace's .gitignore ignores. */
  respectGitignore?: boolean | undefined;
  timeoutMs?: number | undefined;
  noBuild: boolean;
  base?: string | undefined;
  /**
   * --record: starts sampling the running session into its history (the monitor's recorder, handed in by the
   * command so that sessions need nothing from monitor/, which sits above them).
   */
  record?: ((engine: Engine, id: string, name: string) => Promise<Recorder>) | undefined;
  /** The workspace's devcontainer.json, to build and wrap before the session is made. */
  devcontainer?: ResolvedDevcontainer | undefined;
}

/** A running --record: stopped before the session is removed, so its history says how the session ended. */
export interface Recorder {
  stop(): Promise<void>;
}

export interface Detached {
  name: string;
  id: string;
}

/** Point the spec at a checkpoint: its image, and copy mode when it saved a workspace copy. */
async function fromCheckpoint(engine: Engine, spec: SessionSpec, name: string): Promise<Restore> {
  const restore = await findCheckpoint(engine, name);
  spec.image = restore.image;
  if (restore.workspaceVolume && spec.workspace && spec.storage && !spec.storage.workspaceVolume) {
    spec.storage.workspaceVolume = workspaceVolumeName(spec.name);
    spec.ownership[LABEL.workspaceMode] = 'copy';
  }
  return restore;
}

/** A session name that belongs to another session or container. */
class TakenNameError extends UsageError {
  constructor(name: string) {
    super(`session name "${name}" is taken (a container named ${containerName(name)} exists)`, {
      hint: `Choose another --name, or remove the old session with: aca rm ${name}`,
    });
  }
}

/**
 * The engine's isolation facts, the image and the shared isolated network, looked up beside the name check instead
 * of after it: engine round trips fewer in a row (many sessions started at once wait on each). Only lookups: what to
 * do about their answers is still decided in order, after the name check (the engine keeps its isolation facts for
 * prepareSecurity). Not the image for a devcontainer or a checkpoint, which choose it.
 */
function lookAhead(engine: Engine, request: RunRequest): { image?: Promise<unknown>; isolatedNetwork?: Promise<NetworkInspect | undefined> } {
  const { spec } = request;
  if (needsIsolationFacts(engine, spec)) engine.isolationFacts().catch(() => {});
  const asked: ReturnType<typeof lookAhead> = {};
  if (!request.devcontainer && !request.fromCheckpoint) asked.image = engine.images.inspect(spec.image);
  const network = spec.securityPlan?.network;
  if (network?.own && !needsOwnNetwork(engine, network)) asked.isolatedNetwork = engine.networks.inspect(ISOLATED_NETWORK);
  // Answered or failed, each is awaited where it is used; until then a failure is not unhandled.
  for (const lookup of Object.values(asked)) lookup.catch(() => {});
  return asked;
}

/** Refuse a taken name before anything is made: cleaning up after a clash could touch the other session's objects. */
async function refuseTakenName(engine: Engine, name: string): Promise<void> {
  try {
    await engine.inspectContainer(containerName(name));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  throw new TakenNameError(name);
}

async function create(engine: Engine, spec: SessionSpec): Promise<string> {
  let id: string;
  try {
    id = await engine.createContainer(containerName(spec.name), await secureBody(engine, spec, createBody(spec)));
  } catch (error) {
    if (isConflict(error)) {
      throw new TakenNameError(spec.name);
    }
    if (error instanceof EngineApiError) throw new AcaError(`cannot create session ${spec.name}: ${error.message}`, { cause: error });
    throw error;
  }
  await refuseIgnoredRuntime(engine, id, spec);
  return id;
}

/** A runtime asked for (gVisor above all) must be the one the engine will use: never a silent fall back to runc. */
async function refuseIgnoredRuntime(engine: Engine, id: string, spec: SessionSpec): Promise<void> {
  const asked = spec.securityPlan?.security.runtime;
  if (!asked) return;
  const used = await engine.runtimeInUse(id);
  if (used === asked || (used !== undefined && used.endsWith(`/${asked}`))) return;
  await engine.removeContainer(id, { force: true }).catch(() => {});
  const what = spec.securityPlan?.security.isolation === 'gvisor' ? `--isolation gvisor (runtime ${asked})` : `--runtime ${asked}`;
  throw new EngineError(`${what}: the engine created ${spec.name} with runtime ${used ?? 'unknown'} instead; nothing was started`, {
    hint: !engine.capabilities.runtimeChoiceHonoured ? 'this Podman ignores the runtime asked through its Docker-compatible API (HostConfig.Runtime); use Docker for gVisor sessions' : undefined,
  });
}

/** The command a session runs, as the user knows it: the one given, else the image's. */
function commandName(spec: SessionSpec): string {
  return spec.command[0] ?? "the image's command";
}

async function start(engine: Engine, id: string, spec: SessionSpec): Promise<void> {
  try {
    await engine.startContainer(id);
  } catch (error) {
    const exit = error instanceof EngineApiError ? commandDidNotStart(commandName(spec), spec.name, error.message) : undefined;
    if (exit) throw exit;
    throw error;
  }
}

export async function runSession(ctx: Context, request: RunRequest): Promise<number | Detached> {
  const { spec } = request;
  if (spec.tty && !ctx.stdin.isTTY) {
    throw new UsageError('-t needs a terminal on stdin; drop -t when piping or in CI');
  }
  const engine = await ctx.engine();
  const asked = lookAhead(engine, request);
  await refuseTakenName(engine, spec.name);
  const restore = request.fromCheckpoint ? await fromCheckpoint(engine, spec, request.fromCheckpoint) : undefined;
  if (request.devcontainer && !restore) await (await import('../devcontainer/prepare.js')).prepareDevcontainer(ctx, engine, spec, request.devcontainer, request.noBuild);
  await ensureImage(ctx, engine, spec.image, { noBuild: request.noBuild, base: request.base, caCerts: spec.caCerts, inspected: asked.image });
  // Secrets are read, the engine checked and the session's network made before the container.
  const secrets = await prepareSecurity(ctx, engine, spec, { base: request.base, noBuild: request.noBuild }, asked.isolatedNetwork);
  let id: string;
  let helperRemoved: Promise<void> | undefined;
  try {
    if (spec.storage) {
      // A checkpoint's workspace copy replaces the host tree.
      // A branch's workspace is filled by seedBranch below, not copied from the host tree.
      const workspace = spec.workspace && spec.storage.workspaceVolume && !restore?.workspaceVolume && !spec.branch
        ? { hostPath: spec.workspace.hostPath, target: WORKSPACE_PATH, exclude: exclusionRules(spec.workspace.hostPath, Boolean(request.respectGitignore)) }
        : undefined;
      ({ helperRemoved } = await prepareStorage(engine, spec.name, spec.image, spec.storage, spec.user, workspace, spec.labels));
      helperRemoved.catch(() => {}); // awaited below, on every path
      if (restore) await restoreVolumes(engine, restore, { name: spec.name, ...spec.storage });
      else if (spec.branch && spec.storage.workspaceVolume) {
        await seedBranch(engine, { session: spec.name, image: spec.image, user: spec.user, workspaceVolume: spec.storage.workspaceVolume, plan: spec.branch });
      }
    }
    id = await create(engine, spec);
    await helperRemoved;
  } catch (error) {
    // Nothing half-made stays behind: the volumes made for this session go too (once the storage helper, which
    // holds them, is gone), unless the name turned out to be another session's (a race): those are its.
    await helperRemoved?.catch(() => {});
    if (!(error instanceof TakenNameError)) await discard(ctx, engine, spec).catch(() => {});
    throw error;
  }
  ctx.out.debug(`created ${spec.name} (${id.slice(0, 12)})`);
  auditCreate(ctx, spec, secrets);

  if (spec.detach) {
    try {
      await start(engine, id, spec);
      await deliverSecrets(engine, id, spec, secrets);
      guardDisk(ctx, engine, spec);
    } catch (error) {
      await discard(ctx, engine, spec, id).catch(() => {});
      if (error instanceof CommandExit) throw new AcaError(`cannot start session ${spec.name}: ${error.reason}`);
      throw error;
    }
    return { name: spec.name, id };
  }
  return foreground(ctx, engine, id, request, secrets);
}

/** Sessions that write to the engine's disk are checked by the engine's disk guard, started if it is not there (disk-guard.ts). */
function guardDisk(ctx: Context, engine: Engine, spec: SessionSpec): void {
  if (needsDiskGuard(spec.ownership, hasSessionVolumes(spec.storage), Boolean(spec.security?.writableRoot))) spawnDiskGuard(ctx, engine);
}

/**
 * A copy-mode workspace the session changed is kept (the session stopped,
 * its volumes in place) until it is reviewed, unless --rm says to discard
 * it. Whatever cannot be checked is kept too: work is never lost silently.
 */
async function keepUnreviewedWork(ctx: Context, engine: Engine, spec: SessionSpec, discardChanges: boolean): Promise<boolean> {
  if (!spec.storage?.workspaceVolume) return false;
  const { changesAtExit, statLines } = await import('./workspace.js');
  let changes: Awaited<ReturnType<typeof changesAtExit>>;
  try {
    changes = await changesAtExit(engine, spec.name, spec.image);
  } catch (error) {
    if (discardChanges) return false;
    ctx.out.warn(`could not compare the workspace copy of ${spec.name} (${(error as Error).message}); keeping it`);
    changes = undefined;
  }
  if (changes?.length === 0) return false;
  const count = changes ? `${changes.length} path${changes.length === 1 ? '' : 's'}` : 'its workspace';
  if (discardChanges) {
    ctx.out.info(`aca: discarded the changes of ${spec.name} to ${count} in its workspace copy (--rm)`);
    return false;
  }
  await markUnexported(engine, spec.name).catch(() => {});
  ctx.out.info(`aca: ${spec.name} changed ${count} in its workspace copy; the session is kept (stopped) until you review it:`);
  for (const line of statLines(changes ?? [])) ctx.out.info(`  ${line}`);
  ctx.out.info(`  review: aca diff ${spec.name}\n  apply:  aca export ${spec.name}\n  (or discard: aca rm ${spec.name})`);
  return true;
}

/** Remove what was made for this session: its container (once made), its own volumes, its own network. */
async function discard(ctx: Context, engine: Engine, spec: SessionSpec, id?: string): Promise<void> {
  if (id) await engine.removeContainer(id, { force: true });
  if (hasSessionVolumes(spec.storage)) await removeSessionVolumes(engine, spec.name);
  await releaseSecurity(ctx, engine, spec);
  if (id) removeGitPlaceholders(placeholdersOf(spec.protectedMounts), spec.workspace?.hostPath);
}

async function foreground(ctx: Context, engine: Engine, id: string, request: RunRequest, secrets: Deliveries = { secrets: new Map() }): Promise<number> {
  const { spec } = request;
  let signalled: ForwardedSignal | undefined;
  let timedOut = false;
  let timer: LongTimer | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let stopInput: (() => void) | undefined;
  let detached = false;
  let stderrHead: ReturnType<typeof recordingHead> | undefined;
  let held: Buffer | undefined;
  /** Where held output belongs if it was not a launcher's line after all: stderr, or the terminal. */
  let heldGoesTo: NodeJS.WritableStream | undefined;
  let recorder: Recorder | undefined;
  let engineLost = false;

  // An OOM kill the engine flags late (under gVisor it ends the whole sandbox) is told by its event since here.
  const startedSeconds = Date.now() / 1000;
  const untrap = trapSignals(
    (signal) => {
      signalled = signal;
      ctx.out.debug(`forwarding ${signal} to ${spec.name}`);
      // Forward, give the command a grace period to finish on its own, then stop it.
      void engine.killContainer(id, signal).catch(() => {});
      graceTimer = setTimeout(() => void engine.stopContainer(id, 2).catch(() => {}), SIGNAL_GRACE_MS);
    },
    () => void engine.killContainer(id, 'SIGKILL').catch(() => {}),
  );

  try {
    const attached = await engine.attachContainer(id, spec.interactive, request.detachKeys?.length ? formatDetachKeys(request.detachKeys) : undefined);
    let output: Promise<unknown>;
    if (spec.tty) {
      if (signalled) return signalExitCode(signalled);
      await start(engine, id, spec);
      await deliverSecrets(engine, id, spec, secrets);
      guardDisk(ctx, engine, spec);
      output = runTerminal({
        stdin: ctx.stdin,
        stdout: ctx.out.stdout as never,
        socket: attached.socket,
        head: attached.head,
        resize: (columns, rows) => engine.resizeContainer(id, columns, rows),
        detachKeys: request.detachKeys ?? Buffer.alloc(0),
        input: spec.interactive,
        // The init that cannot exec the command writes its line into the terminal: hold it, aca says it once.
        holdFirst: terminalStartFailureVerdict,
      }).then((end) => {
        detached = end.how === 'detached';
        held = end.held;
        heldGoesTo = ctx.out.stdout as never;
      });
    } else {
      stderrHead = recordingHead(ctx.out.stderr as never);
      // An init or the entrypoint that cannot exec the command says so first: hold that back, aca says it once.
      output = pumpOutput(attached.socket, attached.head, { stdout: ctx.out.stdout as never, stderr: stderrHead.sink }, true, {
        holdFirst: (payload) => startFailureVerdict(payload),
      }).then((result) => { held = result.held; });
      // Output may fail (a full disk) while aca still awaits the start: the rejection is handled where output is awaited.
      output.catch(() => {});
      if (signalled) return signalExitCode(signalled);
      await start(engine, id, spec);
      await deliverSecrets(engine, id, spec, secrets);
      guardDisk(ctx, engine, spec);
      if (spec.interactive) stopInput = forwardInput(ctx.stdin, attached.socket);
    }
    // --record: sample in-process while the command runs (loaded only then).
    if (spec.ownership[LABEL.record] === 'true' && request.record) recorder = await request.record(engine, id, spec.name);
    if (request.timeoutMs) {
      timer = setLongTimeout(() => {
        timedOut = true;
        void engine.stopContainer(id, 2).catch(() => {});
      }, request.timeoutMs);
    }
    await output;
    if (detached) {
      ctx.out.info(`\naca: detached from ${spec.name}; it keeps running. Come back with: aca attach ${spec.name}`);
      return 0;
    }
    const exitCode = await engine.waitContainer(id, 'not-running');
    if (signalled) return signalExitCode(signalled);
    const diskStop = takeDiskStop(ctx.env, spec.name);
    if (diskStop) {
      ctx.out.error(diskStop);
      return exitCode === 0 ? EXIT.engineFailure : exitCode;
    }
    if (timedOut) {
      ctx.out.error(`timed out after ${request.timeoutMs! / 1000}s; the command in ${spec.name} was stopped`);
      return EXIT.timeout;
    }
    const state = (await engine.inspectContainer(id)).State;
    if (state.OOMKilled || (exitCode === 137 && (await oomEventSince(engine, id, startedSeconds).catch(() => false)))) {
      ctx.out.error(`out of memory: killed at the ${formatMiB(spec.memory)} limit; raise it with --memory`);
      return 137;
    }
    if (held) {
      const failure = exitCode !== 0 ? commandDidNotStart(commandName(spec), spec.name, held.toString('utf8')) : undefined;
      if (failure) {
        ctx.out.error(failure.reason!);
        return failure.exitCode;
      }
      (heldGoesTo ?? ctx.out.stderr).write(held);
    }
    // An engine may report a command that could not start only after the fact (Podman's init).
    const startFailure = await engine.commandStartFailure(id, exitCode, stderrHead?.head());
    const failure = startFailure ? commandDidNotStart(commandName(spec), spec.name, startFailure) : undefined;
    if (failure) {
      ctx.out.error(failure.reason!);
      return failure.exitCode;
    }
    return exitCode;
  } catch (error) {
    if (error instanceof CommandExit && error.reason) ctx.out.error(error.reason);
    if (error instanceof EngineDownError) {
      // Nothing can be removed now; the session is an orphan once aca exits, and gc removes orphans.
      engineLost = true;
      throw new EngineDownError(error.message, { cause: error, reason: error.reason, hint: `Once the engine is back, \`aca gc\` removes what is left of ${spec.name}.` });
    }
    throw error;
  } finally {
    timer?.cancel();
    if (graceTimer) clearTimeout(graceTimer);
    stopInput?.();
    untrap();
    await recorder?.stop();
    if (detached || engineLost) { /* the session stays: on purpose, or until gc */ }
    else if (!request.keep && !(await keepUnreviewedWork(ctx, engine, spec, Boolean(request.discard)))) {
      await discard(ctx, engine, spec, id).catch((e: Error) => ctx.out.warn(`could not remove ${spec.name}: ${e.message}`));
    }
    else ctx.out.info(`aca: kept session ${spec.name}`);
  }
}
