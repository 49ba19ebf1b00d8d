/**
 * The parts of a session's security profile that act around the container
 * rather than in its create body: the engine checks (--runtime, rootless
 * Podman), the session's own network and egress proxy, secret delivery, the
 * audit record, and their cleanup. Called from run.ts.
 */
import type { Context } from '../context.js';
import type { ContainerCreateBody, Engine, NetworkInspect } from '../engine/index.js';
import { AcaError, UsageError } from '../errors.js';
import { appendAudit } from '../audit.js';
import { checkGvisorPids, chooseIsolation, GVISOR_SETUP_HINT } from '../security/isolation.js';
import { describeSecret, OPEN_GATE, parseSecret, readSecret, withLauncher, writeSecretCommand } from '../security/secrets.js';
import { needsOwnNetwork, prepareSessionNetwork, releaseSessionNetwork, sessionNetworkName } from './network.js';
import { CA_BUNDLE_PATH, type SessionSpec } from './spec.js';
import { readCaBundle } from '../security/ca-certs.js';

/**
 * What aca hands a session after start, read from the host before anything is
 * created: secret values (they live only in this process) and the
 * certificates of the CA bundle.
 */
export interface Deliveries {
  secrets: Map<string, Buffer>;
  caBundle?: string | undefined;
}

/** Where the CA bundle came from, so `aca start` can copy it in again. */
export const CA_CERTS_LABEL = 'aca.ca-certs';

/** Whether the session's isolation or user mapping depends on what the engine offers (one /info call). */
export function needsIsolationFacts(engine: Engine, spec: SessionSpec): boolean {
  const security = spec.securityPlan?.security;
  if (!security) return false;
  return Boolean(security.runtime) || (security.isolationChoice ?? 'container') !== 'container' || engine.capabilities.mayMapSessionUser;
}

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
  isolatedNetworkInspected?: Promise<NetworkInspect | undefined>,
): Promise<Deliveries> {
  const plan = spec.securityPlan;
  const values: Deliveries = { secrets: new Map() };
  if (spec.caCerts) {
    values.caBundle = readCaBundle(spec.caCerts, '--ca-certs');
    spec.ownership[CA_CERTS_LABEL] = spec.caCerts;
  }
  if (!plan) return values;
  for (const secret of plan.secrets) values.secrets.set(secret.name, readSecret(secret, ctx.env));
  if (needsIsolationFacts(engine, spec)) {
    const facts = await engine.isolationFacts();
    if (plan.security.runtime && !facts.runtimes.includes(plan.security.runtime)) {
      throw new UsageError(`--runtime ${plan.security.runtime}: unavailable: the engine lists ${facts.runtimes.join(', ') || 'no runtimes'}`, {
        hint: /runsc$/.test(plan.security.runtime) ? GVISOR_SETUP_HINT : undefined,
      });
    }
    const chosen = chooseIsolation(plan.security.isolationChoice ?? 'container', plan.security.runtime, facts);
    plan.security.runtime = chosen.runtime;
    plan.security.isolation = chosen.isolation;
    if (chosen.isolation === 'gvisor') checkGvisorPids(spec.pids);
    // Rootless Podman: keep-id maps the session user to the invoking user, so workspace files stay theirs.
    if (facts.mapSessionUser) plan.security.keepId = true;
  } else plan.security.isolation = 'container';
  for (const note of plan.notes) ctx.out.info(`aca: ${note}`);
  if (plan.overrides.length > 0) {
    ctx.out.warn(`--unsafe: allowing ${plan.overrides.join(', ')} for ${spec.name}; this session can reach past its sandbox (recorded in the audit trail)`);
  }
  Object.assign(spec.ownership, secretLabels(spec));
  if (plan.network.own) {
    if (engine.capabilities.perSessionNetwork) spec.network = sessionNetworkName(spec.name);
    const env = await prepareSessionNetwork(ctx, engine, spec.name, { ...spec.labels, ...spec.ownership }, plan.network, build, isolatedNetworkInspected);
    spec.env.push(...env);
  }
  return values;
}

/** The create body with the launcher in front of the command, when the session has secrets or a CA bundle to wait for. */
export async function secureBody(engine: Engine, spec: SessionSpec, body: ContainerCreateBody): Promise<ContainerCreateBody> {
  const plan = spec.securityPlan;
  if (!spec.caCerts && (!plan || plan.secrets.length === 0)) return body;
  const image = await engine.images.inspect(spec.image);
  const config = (image?.Config ?? {}) as { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null };
  return withLauncher(body, config, plan?.secretEnv ?? []);
}

/**
 * After start: write each secret into /run/secrets as the session user, and
 * the CA bundle into its root-owned tmpfs as root (so the session user cannot
 * change what it trusts); values go over the API socket on an exec's stdin.
 * Then open the gate the launcher waits on: the command starts only once
 * everything is in place. Nothing of it is in the container's config.
 */
export async function deliverSecrets(engine: Engine, id: string, spec: SessionSpec, values: Deliveries): Promise<void> {
  if (values.secrets.size === 0 && values.caBundle === undefined) return;
  for (const [name, value] of values.secrets) {
    const result = await engine.execWithInput(id, { cmd: writeSecretCommand(name), user: spec.user, input: value });
    if (result.exitCode !== 0) throw new AcaError(`cannot deliver secret ${name} to ${spec.name}: ${result.output.trim() || `exit ${result.exitCode}`}`);
  }
  if (values.caBundle !== undefined) {
    const result = await engine.execWithInput(id, { cmd: WRITE_CA_BUNDLE, user: '0', input: Buffer.from(values.caBundle, 'utf8') });
    if (result.exitCode !== 0) throw new AcaError(`cannot copy the CA bundle into ${spec.name}: ${result.output.trim() || `exit ${result.exitCode}`}`);
  }
  const gate = await engine.execWithInput(id, { cmd: OPEN_GATE, user: spec.user });
  // The session stopped while the gate's exec was ending (its command was quick, or it was killed): whoever
  // waits for the session reports how it ended.
  if (gate.exitCode !== 0 && !gate.sessionStopped && (await stillRunning(engine, id))) throw new AcaError(`cannot start ${spec.name} after delivering its secrets: ${gate.output.trim() || `exit ${gate.exitCode}`}`);
}

/**
 * Whether the session still runs after its gate exec failed. Under gVisor, runsc can fail that exec ("connecting to
 * control server ... connection refused") when the command it let start has already ended the sandbox; a session
 * whose gate never opened waits for ever instead, so a stopped one is not a failed delivery.
 */
async function stillRunning(engine: Engine, id: string): Promise<boolean> {
  return (await engine.inspectContainer(id).catch(() => undefined))?.State.Running ?? false;
}

/** The exec that writes the CA bundle from stdin, readable by every user of the session. */
const WRITE_CA_BUNDLE = ['/bin/sh', '-c', `umask 022; cat > ${CA_BUNDLE_PATH}.tmp && mv -f ${CA_BUNDLE_PATH}.tmp ${CA_BUNDLE_PATH}`];

/** The audit record of a created session. */
export function auditCreate(ctx: Context, spec: SessionSpec, values: Deliveries): void {
  const plan = spec.securityPlan;
  appendAudit(ctx.env, {
    session: spec.name,
    action: 'create',
    args: process.argv.slice(2),
    unsafe: plan?.overrides,
    relaxed: plan?.relaxed,
    relaxations: plan?.relaxations,
    isolation: plan?.security.isolation,
    secretValues: [...values.secrets.values()].map((v) => v.toString('utf8')),
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

/** Whether `aca start` must deliver something again: a stopped session's tmpfs mounts were emptied. */
export function needsRedelivery(labels: Record<string, string> | null | undefined): boolean {
  return Boolean(labels?.[SECRETS_LABEL] || labels?.[CA_CERTS_LABEL]);
}

/**
 * `aca start` of a session with secrets or a CA bundle: read them from the
 * host again and deliver them. If one cannot be read, the session is stopped
 * (its command would otherwise wait for ever) and the error says which.
 */
export async function redeliverSecrets(ctx: Context, engine: Engine, id: string): Promise<void> {
  const info = await engine.inspectContainer(id);
  const labels = info.Config.Labels ?? {};
  if (!needsRedelivery(labels)) return;
  try {
    const values: Deliveries = { secrets: new Map() };
    for (const ref of (labels[SECRETS_LABEL] ?? '').split('\n').filter(Boolean)) {
      const spec = parseSecret(ref, '/');
      values.secrets.set(spec.name, readSecret(spec, ctx.env));
    }
    if (labels[CA_CERTS_LABEL]) values.caBundle = readCaBundle(labels[CA_CERTS_LABEL], '--ca-certs');
    await deliverSecrets(engine, id, { name: info.Name.replace(/^\//, ''), user: info.Config.User } as SessionSpec, values);
  } catch (error) {
    await engine.stopContainer(id, 0).catch(() => {});
    throw error;
  }
}
