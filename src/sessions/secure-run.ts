/**
 * The parts of a session's security profile that act around the container
 * rather than in its create body: the engine checks (--runtime, rootless
 * Podman), the session's own network and egress proxy, secret delivery, the
 * audit record, and their cleanup. Called from run.ts.
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/client.js';
import { execWithInput } from '../engine/networks.js';
import type { ContainerCreateBody } from '../engine/types.js';
import { AcaError, UsageError } from '../errors.js';
import { appendAudit } from '../audit.js';
import { isRemoteEndpoint } from '../engine/endpoint.js';
import { isolationFacts } from '../engine/info.js';
import { chooseIsolation, GVISOR_SETUP_HINT } from '../security/isolation.js';
import { describeSecret, OPEN_GATE, parseSecret, readSecret, withLauncher, writeSecretCommand } from '../security/secrets.js';
import { needsOwnNetwork, prepareSessionNetwork, releaseSessionNetwork, sessionNetworkName } from './network.js';
import type { SessionSpec } from './spec.js';

/** Secret values, read from the host before anything is created; they live only in this process. */
export type SecretValues = Map<string, Buffer>;

/**
 * Before the container is created: check what the engine must provide, read
 * the secrets, warn about --unsafe, create the session's network (and wire
 * the egress proxy, whose variables are added to the session's env).
 */
export async function prepareSecurity(
  ctx: Context,
  engine: Engine,
  spec: SessionSpec,
  build: { base?: string | undefined; noBuild: boolean },
): Promise<SecretValues> {
  const plan = spec.securityPlan;
  const values: SecretValues = new Map();
  if (!plan) return values;
  for (const secret of plan.secrets) values.set(secret.name, readSecret(secret, ctx.env));
  const choice = plan.security.isolationChoice ?? 'container';
  if (plan.security.runtime || choice !== 'container' || engine.kind === 'podman') {
    const info = await engine.systemInfo();
    const facts = isolationFacts(engine.kind, info, !isRemoteEndpoint(engine.http.endpoint));
    if (plan.security.runtime && !facts.runtimes.includes(plan.security.runtime)) {
      throw new UsageError(`--runtime ${plan.security.runtime}: unavailable: the engine lists ${facts.runtimes.join(', ') || 'no runtimes'}`, {
        hint: /runsc$/.test(plan.security.runtime) ? GVISOR_SETUP_HINT : undefined,
      });
    }
    const chosen = chooseIsolation(choice, plan.security.runtime, facts);
    plan.security.runtime = chosen.runtime;
    plan.security.isolation = chosen.isolation;
    // Rootless Podman: keep-id maps the session user to the invoking user, so workspace files stay theirs.
    if (engine.kind === 'podman' && (info.SecurityOptions ?? []).some((o) => o.includes('rootless'))) plan.security.keepId = true;
  } else plan.security.isolation = 'container';
  if (plan.overrides.length > 0) {
    ctx.out.warn(`--unsafe: allowing ${plan.overrides.join(', ')} for ${spec.name}; this session can reach past its sandbox (recorded in the audit trail)`);
  }
  Object.assign(spec.ownership, secretLabels(spec));
  if (plan.network.own) {
    if (engine.kind === 'podman') spec.network = sessionNetworkName(spec.name);
    const env = await prepareSessionNetwork(ctx, engine, spec.name, { ...spec.labels, ...spec.ownership }, plan.network, build);
    spec.env.push(...env);
  }
  return values;
}

/** The create body with the secrets launcher in front of the command, when the session has secrets. */
export async function secureBody(engine: Engine, spec: SessionSpec, body: ContainerCreateBody): Promise<ContainerCreateBody> {
  const plan = spec.securityPlan;
  if (!plan || plan.secrets.length === 0) return body;
  const image = await engine.inspectImage(spec.image);
  const config = (image?.Config ?? {}) as { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null };
  return withLauncher(body, config, plan.secretEnv);
}

/**
 * After start: write each secret into /run/secrets as the session user (the
 * value goes over the API socket on an exec's stdin), then open the gate the
 * launcher waits on. Nothing of the value is in the container's config.
 */
export async function deliverSecrets(engine: Engine, id: string, spec: SessionSpec, values: SecretValues): Promise<void> {
  if (values.size === 0) return;
  for (const [name, value] of values) {
    const result = await execWithInput(engine, id, { cmd: writeSecretCommand(name), user: spec.user, input: value });
    if (result.exitCode !== 0) throw new AcaError(`cannot deliver secret ${name} to ${spec.name}: ${result.output.trim() || `exit ${result.exitCode}`}`);
  }
  const gate = await execWithInput(engine, id, { cmd: OPEN_GATE, user: spec.user });
  if (gate.exitCode !== 0) throw new AcaError(`cannot start ${spec.name} after delivering its secrets: ${gate.output.trim() || `exit ${gate.exitCode}`}`);
}

/** The audit record of a created session. */
export function auditCreate(ctx: Context, spec: SessionSpec, values: SecretValues): void {
  const plan = spec.securityPlan;
  appendAudit(ctx.env, {
    session: spec.name,
    action: 'create',
    args: process.argv.slice(2),
    unsafe: plan?.overrides,
    relaxed: plan?.relaxed,
    isolation: plan?.security.isolation,
    secretValues: [...values.values()].map((v) => v.toString('utf8')),
  }, (m) => ctx.out.warn(m));
}

/** After the container is gone: its network (and, with the last session, the egress proxy). */
export async function releaseSecurity(ctx: Context, engine: Engine, spec: SessionSpec): Promise<void> {
  const network = spec.securityPlan?.network;
  // Nothing to look up when the session joined the shared network (a network aca made by mistake is gc's to find).
  if (!network?.own || !needsOwnNetwork(engine, network)) return;
  await releaseSessionNetwork(engine, spec.name).catch((e: Error) => ctx.out.warn(`could not remove the network of ${spec.name}: ${e.message}`));
}

export const SECRETS_LABEL = 'aca.secrets';

/** Record where each secret comes from (never its value), so `aca start` can deliver it again. */
export function secretLabels(spec: SessionSpec): Record<string, string> {
  const plan = spec.securityPlan;
  if (!plan || plan.secrets.length === 0) return {};
  return { [SECRETS_LABEL]: plan.secrets.map(describeSecret).join('\n'), 'aca.secret-env': plan.secretEnv.join(',') };
}

/**
 * `aca start` of a session with secrets: read them from the host again and
 * deliver them. If one cannot be read, the session is stopped (its command
 * would otherwise wait for ever) and the error says which.
 */
export async function redeliverSecrets(ctx: Context, engine: Engine, id: string): Promise<void> {
  const info = await engine.inspectContainer(id);
  const refs = info.Config.Labels?.[SECRETS_LABEL];
  if (!refs) return;
  try {
    const values: SecretValues = new Map();
    for (const ref of refs.split('\n')) {
      const spec = parseSecret(ref, '/');
      values.set(spec.name, readSecret(spec, ctx.env));
    }
    await deliverSecrets(engine, id, { name: info.Name.replace(/^\//, ''), user: info.Config.User } as SessionSpec, values);
  } catch (error) {
    await engine.stopContainer(id, 0).catch(() => {});
    throw error;
  }
}
