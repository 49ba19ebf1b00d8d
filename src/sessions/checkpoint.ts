/**
 * Checkpoints: a session's filesystem committed as a labelled image, and its
 * home (and copy-mode workspace) volumes copied into labelled volumes, so a
 * new session can start exactly where the checkpoint left off.
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { AcaError, CommandExit, UsageError } from '../errors.js';
import { signalExitCode } from './foreground.js';
import { creatorLabels, hostFacts } from '../host.js';
import { baseVolumeName } from './manifest.js';
import { LABEL, MANAGED_FILTER, storageHelperLabels } from '../labels.js';
import { resolveSession } from './resolve.js';
import { homeVolumeName, workspaceVolumeName } from './storage.js';

export interface CheckpointInfo {
  name: string;
  session: string;
  image: string;
  created: string;
  sizeBytes: number;
  volumes: string[];
}

const checkpointVolume = (checkpoint: string, what: 'home' | 'workspace' | 'base') => `aca-ckpt-${checkpoint}-${what}`;

export function validateCheckpointName(name: string): string {
  if (!/^[a-z0-9][a-z0-9_.-]{0,100}$/.test(name)) {
    throw new UsageError(`--name: invalid checkpoint name "${name}" (lower-case letters, digits, _ . -)`);
  }
  return name;
}

/** Copy one volume into another with the engine's own means (see Engine.copyVolume); `owner` labels its helpers. */
function copyVolume(engine: Engine, image: string, from: string, to: string, owner: Record<string, string>, leaveOut: string[] = []): Promise<void> {
  return engine.copyVolume(from, to, { image, labels: storageHelperLabels(owner), leaveOut });
}

/**
 * What a volume copy's helpers are made of: the image the session's line began with, never a checkpoint's. A
 * checkpoint image holds what its session wrote to its filesystem, and a helper may run the image's own tools as
 * root (Podman's copy runs its shell and cp): a session must not choose them. Once that image is gone, the one given.
 */
async function copyHelperImage(engine: Engine, image: string): Promise<string> {
  const original = (await engine.images.inspect(image))?.Config?.Labels?.[LABEL.checkpointHelperImage];
  return original && (await engine.images.inspect(original)) ? original : image;
}

async function findCheckpointImage(engine: Engine, name: string) {
  return (await engine.images.listLabelled([MANAGED_FILTER, `${LABEL.checkpoint}=${name}`]))[0];
}

/** The volumes a checkpoint saves, by what they hold. */
const SAVED = ['home', 'workspace', 'base'] as const;
type Saved = (typeof SAVED)[number];
const sourceVolume = (session: string, what: Saved) =>
  what === 'home' ? homeVolumeName(session) : what === 'workspace' ? workspaceVolumeName(session) : baseVolumeName(session);

/**
 * All or nothing: the session is paused while its volumes are copied and its
 * filesystem committed, and resumed afterwards in every case. The image is
 * made last, so a checkpoint is listed (ls lists images) only once complete;
 * a failure or SIGINT/SIGTERM removes every part made so far. Killed outright
 * (SIGKILL), the volumes left without an image are gc's.
 */
export async function createCheckpoint(ctx: Context, query: string, requested?: string): Promise<CheckpointInfo> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-').toLowerCase();
  const name = validateCheckpointName(requested ?? `${session.name.toLowerCase()}-${stamp}`);
  if (await findCheckpointImage(engine, name)) throw new AcaError(`checkpoint ${name} exists already`, { hint: `Remove it with: aca checkpoint rm ${name}` });
  if ((await engine.volumes.list([MANAGED_FILTER, `${LABEL.checkpoint}=${name}`])).length > 0) {
    throw new AcaError(`checkpoint ${name} is being made, or was interrupted`, { hint: 'aca gc removes what an interrupted checkpoint left' });
  }

  const info = await session.inspect();
  // The image keeps the container's labels; blank aca's own, so a session made
  // from it starts with none of this one's identity (owner, expiry, ...).
  const blanked = Object.fromEntries(Object.keys(info.Config.Labels ?? {}).filter((k) => k.startsWith('aca.')).map((k) => [k, '']));
  const created = new Date().toISOString();
  const made: { volumes: string[]; image?: string } = { volumes: [] };
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => { interrupted = signal; };
  const check = () => {
    if (interrupted) throw new CommandExit(signalExitCode(interrupted), `checkpoint ${name} interrupted (${interrupted}); nothing was kept`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const paused = info.State.Running && !info.State.Paused;
  const helperImage = await copyHelperImage(engine, info.Image);
  const facts = hostFacts();
  try {
    if (paused) await engine.pauseContainer(session.id);
    const owner = { [LABEL.checkpoint]: name, [LABEL.checkpointOf]: session.name, ...creatorLabels() };
    for (const what of SAVED) {
      check();
      const source = sourceVolume(session.name, what);
      if (!(await engine.volumes.inspect(source))) continue;
      const target = checkpointVolume(name, what);
      made.volumes.push(target);
      await engine.volumes.create(target, {
        [LABEL.managed]: 'true', [LABEL.checkpoint]: name, [LABEL.checkpointOf]: session.name, [LABEL.volume]: `checkpoint-${what}`,
        // Who makes it: gc leaves the volumes of a checkpoint in progress alone, and cleans up after a killed one.
        [LABEL.ownerHost]: facts.hostname, [LABEL.ownerPid]: String(process.pid), [LABEL.ownerBoot]: facts.bootId,
        ...(paused ? { [LABEL.checkpointPaused]: 'true' } : {}),
      });
      // A subscription login copied into the home (--agent-login) never goes into a checkpoint.
      const login = what === 'home' ? (info.Config.Labels?.[LABEL.agentLogin] ?? '').split(',').filter(Boolean) : [];
      await copyVolume(engine, helperImage, source, target, owner, login);
    }
    check();
    made.image = await engine.commitContainer(session.id, {
      repo: `aca-checkpoint/${session.name.toLowerCase()}`,
      tag: name,
      labels: {
        ...blanked,
        [LABEL.managed]: 'true',
        [LABEL.checkpoint]: name,
        [LABEL.checkpointOf]: session.name,
        [LABEL.created]: created,
        [LABEL.checkpointHelperImage]: helperImage,
        'aca.checkpoint.workspace': made.volumes.includes(checkpointVolume(name, 'workspace')) ? 'copy' : '',
      },
    });
    check();
    return { name, session: session.name, image: made.image, created, sizeBytes: 0, volumes: made.volumes.sort() };
  } catch (error) {
    if (made.image) await engine.images.remove(made.image).catch(() => {});
    for (const volume of made.volumes) await engine.volumes.remove(volume).catch(() => {});
    throw error;
  } finally {
    if (paused) await engine.unpauseContainer(session.id).catch((e: Error) => ctx.out.warn(`could not resume ${session.name}: ${e.message}`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function listCheckpoints(ctx: Context): Promise<CheckpointInfo[]> {
  const engine = await ctx.engine();
  const [images, volumes] = await Promise.all([engine.images.listLabelled([MANAGED_FILTER, LABEL.checkpoint]), engine.volumes.list([MANAGED_FILTER, LABEL.checkpoint])]);
  return images
    .map((image) => {
      const name = image.Labels?.[LABEL.checkpoint] ?? '';
      return {
        name,
        session: image.Labels?.[LABEL.checkpointOf] ?? '',
        image: image.Id,
        created: image.Labels?.[LABEL.created] || new Date(image.Created * 1000).toISOString(),
        sizeBytes: image.Size,
        volumes: volumes.filter((v) => v.Labels?.[LABEL.checkpoint] === name).map((v) => v.Name).sort(),
      };
    })
    .filter((c) => c.name)
    .sort((a, b) => b.created.localeCompare(a.created));
}

export async function removeCheckpoint(ctx: Context, name: string): Promise<void> {
  const engine = await ctx.engine();
  const image = await findCheckpointImage(engine, name);
  if (!image) throw new AcaError(`no such checkpoint: ${name}`, { hint: 'List them with: aca checkpoint ls' });
  // The volumes go only once the image is gone: a checkpoint half removed is not one half usable.
  if (!(await engine.images.remove(image.Id))) throw new AcaError(`checkpoint ${name} is in use by a session; remove that session first`);
  for (const volume of await engine.volumes.list([MANAGED_FILTER, `${LABEL.checkpoint}=${name}`])) await engine.volumes.remove(volume.Name);
}

export interface Restore {
  image: string;
  /** What the helpers that fill the new session's volumes are made of (see copyHelperImage). */
  helperImage: string;
  homeVolume?: string | undefined;
  workspaceVolume?: string | undefined;
  baseVolume?: string | undefined;
}

/** What a new session needs from a checkpoint: its image, and the volumes to copy from. */
export async function findCheckpoint(engine: Engine, name: string): Promise<Restore> {
  const image = await findCheckpointImage(engine, name);
  if (!image) throw new AcaError(`no such checkpoint: ${name}`, { hint: 'List them with: aca checkpoint ls' });
  const has = async (what: Saved) => ((await engine.volumes.inspect(checkpointVolume(name, what))) ? checkpointVolume(name, what) : undefined);
  return { image: image.Id, helperImage: await copyHelperImage(engine, image.Id), homeVolume: await has('home'), workspaceVolume: await has('workspace'), baseVolume: await has('base') };
}

/** Fill a new session's volumes from the checkpoint's. */
export async function restoreVolumes(engine: Engine, restore: Restore, session: { name: string; homeVolume?: string | undefined; workspaceVolume?: string | undefined }): Promise<void> {
  const owner = { [LABEL.session]: session.name };
  if (restore.homeVolume && session.homeVolume) await copyVolume(engine, restore.helperImage, restore.homeVolume, session.homeVolume, owner);
  if (restore.workspaceVolume && session.workspaceVolume) {
    await copyVolume(engine, restore.helperImage, restore.workspaceVolume, session.workspaceVolume, owner);
    // The new session's base is the original copy's: diff and export compare with what came from the host.
    if (restore.baseVolume) await copyVolume(engine, restore.helperImage, restore.baseVolume, baseVolumeName(session.name), owner);
  }
}

