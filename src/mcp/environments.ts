/**
 * The environments one `aca mcp` server opened: each an aca session on a new branch (`aca run --branch NAME
 * --detach` underneath, so every rule of a session applies), whose main process is `cat` reading from the server's
 * attach. That attach is the session's lifeline and its log: each line the server writes (one per command) comes out
 * as the session's output, so `aca logs` lists the commands in order; and when the server goes away in any way
 * (stdin closed, a signal, SIGKILL) the engine closes the session's stdin, `cat` ends and the session stops, with its
 * branch and work kept.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { nonRootUser } from '../agents/apply.js';
import { AcaError } from '../errors.js';
import { LABEL, MANAGED_FILTER } from '../labels.js';
import type { RunFlags } from '../sessions/options.js';
import { listSessions } from '../sessions/resolve.js';

export const PURPOSE_LABEL = 'aca.mcp.purpose';

export interface OpenRequest {
  path: string;
  branch?: string | undefined;
  name?: string | undefined;
  image?: string | undefined;
  agent?: string | undefined;
  explanation: string;
}

export interface Environment {
  name: string;
  id: string;
  branch: string;
  repo: string;
  base: string;
  image: string;
  explanation: string;
  lifeline: Duplex;
}

export interface EnvironmentRow {
  name: string;
  state: string;
  branch: string;
  repo: string;
  explanation: string;
  /** Opened by this server (only those take commands here). */
  mine: boolean;
}

export class Environments {
  private readonly open = new Map<string, Environment>();

  constructor(private readonly ctx: Context) {}

  private engine(): Promise<Engine> {
    return this.ctx.engine();
  }

  async create(request: OpenRequest): Promise<Environment> {
    const [{ resolveRun }, { runSession }] = await Promise.all([import('../sessions/options.js'), import('../sessions/run.js')]);
    const suffix = randomBytes(3).toString('hex');
    const branch = request.branch ?? `aca-mcp-${suffix}`;
    // Only what the tool schema allows reaches the flags: no hosts, mounts, capabilities, env or user.
    const flags: RunFlags = {
      workspace: request.path,
      branch,
      detach: true,
      interactive: true,
      name: request.name ?? `mcp-${suffix}`,
      ...(request.image ? { image: request.image } : {}),
      ...(request.agent ? { agent: request.agent } : {}),
    };
    const resolved = await resolveRun({ ...this.ctx, cwd: request.path }, flags, ['cat'], { shell: true });
    // The session works on its own copy: a root-owned repository need not make it root (the user's config still may).
    if (!resolved.config.values.user) resolved.spec.user = nonRootUser('aca mcp', resolved.spec.user, false, false);
    resolved.spec.ownership[LABEL.mcp] = 'true';
    resolved.spec.ownership[PURPOSE_LABEL] = request.explanation.slice(0, 500);
    const made = await runSession(this.ctx, { spec: resolved.spec, keep: true, noBuild: resolved.noBuild, base: resolved.base });
    if (typeof made === 'number') throw new AcaError(`the environment did not start (exit ${made})`);
    const engine = await this.engine();
    let lifeline: Duplex;
    try {
      ({ socket: lifeline } = await engine.attachContainer(made.id, true));
    } catch (error) {
      await engine.stopContainer(made.id, 1).catch(() => {});
      throw new AcaError(`cannot attach to the new environment ${made.name}: ${(error as Error).message}`);
    }
    // The echo of the log lines comes back here: drop it, or the session's `cat` would block.
    lifeline.on('data', () => {});
    lifeline.on('error', () => {});
    const plan = resolved.spec.branch!;
    const env: Environment = {
      name: made.name, id: made.id, branch: plan.name, repo: plan.repo, base: plan.base, image: resolved.spec.image,
      explanation: request.explanation, lifeline,
    };
    this.open.set(env.name, env);
    this.log(env, `opened on branch ${plan.name} from ${plan.base.slice(0, 12)} of ${plan.repo}: ${request.explanation}`);
    return env;
  }

  /** An environment this server opened and has not closed. */
  get(name: string): Environment {
    const env = this.open.get(name);
    if (!env) {
      const known = [...this.open.keys()];
      throw new AcaError(`no open environment "${name}" here${known.length ? ` (open: ${known.join(', ')})` : '; open one with open_environment'}`);
    }
    return env;
  }

  /** One line in the session's output (`aca logs`); line breaks in the text are flattened so it stays one line. */
  log(env: Environment, text: string): void {
    const line = `[aca mcp ${new Date().toISOString()}] ${text.replace(/[\r\n]+/g, ' ')}\n`;
    if (!env.lifeline.destroyed) env.lifeline.write(line);
  }

  async list(): Promise<EnvironmentRow[]> {
    const engine = await this.engine();
    const sessions = (await listSessions(engine, true)).filter((s) => s.Labels?.[LABEL.mcp] === 'true');
    return sessions.map((s) => ({
      name: s.Labels?.[LABEL.session] ?? s.Id.slice(0, 12),
      state: s.State,
      branch: s.Labels?.[LABEL.branch] ?? '',
      repo: s.Labels?.['aca.branch.repo'] ?? '',
      explanation: s.Labels?.[PURPOSE_LABEL] ?? '',
      mine: this.open.has(s.Labels?.[LABEL.session] ?? ''),
    }));
  }

  /** Stop it: closing its stdin ends `cat`; a stop makes sure. Its container, volume and branch stay. */
  async close(name: string): Promise<Environment> {
    const env = this.get(name);
    this.open.delete(name);
    this.log(env, 'closed');
    env.lifeline.end();
    const engine = await this.engine();
    await engine.stopContainer(env.id, 2).catch(() => {});
    env.lifeline.destroy();
    return env;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((name) => this.close(name).catch(() => {})));
  }
}

/**
 * A server killed between starting a session and attaching to it leaves it running with nobody on its stdin:
 * stop (never remove) this host's running aca mcp sessions whose server is gone.
 */
export async function stopAbandoned(ctx: Context): Promise<string[]> {
  const engine = await ctx.engine();
  const { hostFacts } = await import('../host.js');
  const facts = hostFacts();
  const running = await engine.listContainers([MANAGED_FILTER, `${LABEL.mcp}=true`], false);
  const stopped: string[] = [];
  for (const s of running) {
    const labels = s.Labels ?? {};
    const pid = Number(labels[LABEL.ownerPid]);
    if (labels[LABEL.ownerHost] !== facts.hostname || !pid) continue;
    if (labels[LABEL.ownerBoot] === facts.bootId && facts.ownerAlive(pid)) continue;
    await engine.stopContainer(s.Id, 2).catch(() => {});
    stopped.push(labels[LABEL.session] ?? s.Id.slice(0, 12));
  }
  return stopped;
}
