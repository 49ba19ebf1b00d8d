/** What `aca config` says about the workspace's devcontainer.json: which file, whether it applies, what it sets. */
import { trustState } from '../config/trust.js';
import { devcontainerCandidates } from './discover.js';

export interface DevcontainerReport {
  file: string;
  /** Whether a new session here would follow it. */
  used: boolean;
  why?: string;
  trust: 'trusted' | 'changed' | 'untrusted';
  image?: string | undefined;
  build?: { context: string; dockerfile: string } | undefined;
  /** What it sets, in aca's terms. */
  sets: Record<string, unknown>;
  /** What it asks for that needs `aca trust`, and what aca skips. */
  needsTrust: string[];
  unsupported: string[];
  error?: string;
}

export async function describeDevcontainer(workspace: string, cwd: string, env: NodeJS.ProcessEnv, configImage: string | undefined): Promise<DevcontainerReport | undefined> {
  if (devcontainerCandidates(workspace).length === 0) return undefined;
  const [{ chooseDevcontainer }, { readDevcontainer }, { mapDevcontainer }, { devcontainerTag }] = await Promise.all([
    import('./discover.js'), import('./read.js'), import('./map.js'), import('./resolve.js'),
  ]);
  let path: string | undefined;
  try {
    path = chooseDevcontainer(workspace, cwd);
    if (!path) return undefined;
    const file = readDevcontainer(path);
    const plan = mapDevcontainer({ path, config: file.config, workspace, env });
    const trust = trustState(env, path, file.sha256);
    const sets: Record<string, unknown> = {};
    if (plan.containerEnv.length) sets.env = plan.containerEnv.map(([k]) => k);
    if (plan.remoteEnv.length) sets.remoteEnv = plan.remoteEnv.map(([k]) => k);
    if (plan.user) sets.user = plan.user;
    if (plan.workdir) sets.workdir = plan.workdir;
    if (plan.volumes.length) sets.volumes = plan.volumes;
    if (plan.ports.length) sets.ports = plan.ports;
    if (Object.values(plan.limits).some(Boolean)) sets.limits = plan.limits;
    if (Object.keys(plan.lifecycle).length) sets.lifecycle = Object.keys(plan.lifecycle);
    return {
      file: path,
      used: !configImage && (plan.widenings.length === 0 || trust === 'trusted'),
      ...(configImage ? { why: 'the configuration names an image' } : plan.widenings.length > 0 && trust !== 'trusted' ? { why: 'it asks for widenings and is not trusted: aca run refuses it' } : {}),
      trust,
      image: plan.build ? devcontainerTag(workspace, file.sha256, plan.build) : plan.image,
      build: plan.build ? { context: plan.build.context, dockerfile: plan.build.dockerfile } : undefined,
      sets,
      needsTrust: plan.widenings,
      unsupported: plan.unsupported,
    };
  } catch (error) {
    return { file: path ?? workspace, used: false, trust: 'untrusted', sets: {}, needsTrust: [], unsupported: [], error: (error as Error).message };
  }
}
