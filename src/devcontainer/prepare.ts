/**
 * What a devcontainer.json asks for once the session is about to be made: its image built (through aca's build
 * path, tagged by the contents that define it, so an unchanged configuration is not rebuilt), its
 * initializeCommand run on the host (only ever from a trusted file), and its lifecycle commands put in front of the
 * session's command.
 */
import { spawn } from 'node:child_process';
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { ensureImage, runBuild } from '../images.js';
import { KEEP_ALIVE, type SessionSpec } from '../sessions/spec.js';
import { LABEL } from '../labels.js';
import { shellQuote, wrapperScript, type LifecycleCommand } from './lifecycle.js';
import type { ResolvedDevcontainer } from './resolve.js';

function runOnHost(command: LifecycleCommand, cwd: string, ctx: Context): Promise<void> {
  const runs = typeof command === 'string' ? [['sh', '-c', command]] : Array.isArray(command) ? [command] : Object.values(command).map((c) => (typeof c === 'string' ? ['sh', '-c', c] : c));
  ctx.out.info(`aca: devcontainer initializeCommand (on the host): ${runs.map((r) => r.map(shellQuote).join(' ')).join(' & ')}`);
  return Promise.all(runs.map(([file, ...args]) => new Promise<void>((done, fail) => {
    const child = spawn(file!, args, { cwd, stdio: ['ignore', 2, 2] });
    child.on('error', (error) => fail(new AcaError(`devcontainer initializeCommand: ${error.message}`)));
    child.on('exit', (code, signal) => (code === 0 ? done() : fail(new AcaError(`devcontainer initializeCommand failed with ${signal ?? `exit code ${code}`}`))));
  }))).then(() => undefined);
}

function asList(value: string[] | string | null | undefined): string[] {
  if (!value) return [];
  return typeof value === 'string' ? ['sh', '-c', value] : value;
}

/** Before the session is made: the host command (trusted files only), the image, the lifecycle wrapper. */
export async function prepareDevcontainer(ctx: Context, engine: Engine, spec: SessionSpec, dc: ResolvedDevcontainer, noBuild: boolean): Promise<void> {
  const { plan } = dc;
  if (plan.initializeCommand) await runOnHost(plan.initializeCommand, dc.workspace, ctx);
  if (plan.build) {
    const tag = dc.image!;
    spec.image = tag;
    if (!(await engine.images.inspect(tag))) {
      if (noBuild) throw new AcaError(`image ${tag} (from ${dc.file}) does not exist and --no-build forbids building it`);
      await runBuild(ctx, engine, {
        context: plan.build.context, dockerfile: plan.build.dockerfile, tags: [tag], buildArgs: plan.build.args, noCache: false,
        target: plan.build.target, cacheFrom: plan.build.cacheFrom,
        labels: { [LABEL.managed]: 'true', [LABEL.image]: 'devcontainer' },
      });
    }
  }
  if (Object.keys(plan.lifecycle).length === 0 && plan.remoteEnv.length === 0) return;
  // The wrapper runs after the image's own entrypoint (which may prepare the session), then execs the command:
  // it needs the image's own entrypoint and command, so the image is pulled first.
  await ensureImage(ctx, engine, spec.image, { noBuild, caCerts: spec.caCerts });
  const image = await engine.images.inspect(spec.image);
  if (!image) return;
  const script = wrapperScript({ commands: plan.lifecycle, remoteEnv: plan.remoteEnv, marker: `devcontainer-created-${dc.sha256.slice(0, 12)}`, attached: spec.tty });
  spec.entrypoint = [...asList(image.Config?.Entrypoint), 'sh', '-c', script, 'aca-devcontainer'];
  if (spec.command.length === 0) spec.command = spec.detach ? KEEP_ALIVE : asList(image.Config?.Cmd);
}
