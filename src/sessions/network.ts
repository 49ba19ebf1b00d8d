/**
 * A session's own network, and the egress proxy behind allow-listed ones.
 *
 * - Default: a bridge network aca-<session> with inter-container traffic off
 *   (enable_icc=false), so sessions never see each other.
 * - With an allow-list: the network is internal (no route out, no outside
 *   DNS). The one shared proxy container, aca-egress-<egress network>, is
 *   attached to it and to the egress network; the session's http(s)_proxy
 *   points at the proxy's address on the session's network, and the proxy
 *   finds the session's allow-list by that address.
 * Both carry aca.managed=true, and are removed with the session (the proxy
 * with the last session that uses it).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { type ContainerCreateBody, DETACHED_STDIO, type Engine, EngineApiError, isConflict, isNotFound, type NetworkInspect } from '../engine/index.js';
import { AcaError, UsageError } from '../errors.js';
import { runBuild } from '../images.js';
import { announceBuild, ensureBuildBase } from '../build-base.js';
import { serviceHostConfig } from '../security/profile.js';
import { PACKAGE_DIR, VERSION } from '../version.js';
import { LABEL } from '../labels.js';

export const EGRESS_PORT = 3128;
const EGRESS_DIR = join(PACKAGE_DIR, 'container', 'egress');

/** aca/egress:<version>-<hash of container/egress>: a changed proxy is rebuilt, an unchanged one reused. */
export function egressImage(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(EGRESS_DIR).sort()) hash.update(file).update(readFileSync(join(EGRESS_DIR, file)));
  return `aca/egress:${VERSION}-${hash.digest('hex').slice(0, 12)}`;
}
const CONFIG_DIR = '/run/aca-egress';
export const EGRESS_LABEL = 'aca.egress';
export const EGRESS_NETWORK_LABEL = 'aca.egress.network';
/** On a session's network: its allow-list, for `aca inspect --security`. */
export const EGRESS_ALLOW_LABEL = 'aca.egress.allow';

export interface NetworkRequest {
  /** --allow-host / network.allow: when set, the network is internal and egress goes through the proxy. */
  allow?: string[] | undefined;
  /** --egress-network: where the proxy reaches out (default: the engine's default bridge). */
  egressNetwork?: string | undefined;
}

export function sessionNetworkName(session: string): string {
  return `aca-${session}`;
}

/**
 * The network every session without an allow-list joins: one bridge with
 * inter-container traffic off (enable_icc=false), so no session can reach
 * another, exactly as with a network per session. One shared network instead
 * of one each, because a bridge network per session costs about 0.25 s to
 * create and remove on every run, and the engine's default address pools run
 * out at about 30 networks.
 */
export const ISOLATED_NETWORK = 'aca-isolated';

/** The network a session joins when it asks for none by name. */
export function defaultNetworkFor(session: string, allow: string[] | undefined): string {
  return allow && allow.length > 0 ? sessionNetworkName(session) : ISOLATED_NETWORK;
}

/** What a session asking for no network joins on this engine, as `aca config` shows it (undefined: not known). */
export function defaultNetworkSummary(perSessionNetwork: boolean | undefined): string {
  if (perSessionNetwork === true) return 'aca-<session> (a network of its own: Podman ignores icc)';
  if (perSessionNetwork === false) return `${ISOLATED_NETWORK} (shared bridge, inter-container traffic off)`;
  return `${ISOLATED_NETWORK} on Docker, aca-<session> on Podman (engine not reached)`;
}

/**
 * Create the shared isolated network on first use; another aca creating it at the same time is fine. `inspected`:
 * its lookup, asked earlier beside other engine calls.
 */
async function ensureIsolatedNetwork(engine: Engine, inspected?: Promise<NetworkInspect | undefined>): Promise<void> {
  const existing = await (inspected ?? engine.networks.inspect(ISOLATED_NETWORK));
  if (existing) {
    if (existing.Labels?.[LABEL.managed] !== 'true') {
      throw new AcaError(`a network named ${ISOLATED_NETWORK} exists but aca did not create it; aca will not use it`, {
        hint: `Rename or remove that network, or choose one with --network NAME.`,
      });
    }
    return;
  }
  try {
    await engine.networks.create({
      name: ISOLATED_NETWORK,
      labels: { [LABEL.managed]: 'true', 'aca.network': 'isolated' },
      internal: false,
      options: { 'com.docker.network.bridge.enable_icc': 'false' },
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

export function egressProxyName(egressNetwork: string): string {
  return `aca-egress-${egressNetwork.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}

/** The variables that send a session's HTTP(S) through the proxy; both cases (curl reads only lower case). */
export function proxyEnv(proxyAddress: string): Array<[string, string]> {
  const url = `http://${proxyAddress}:${EGRESS_PORT}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return [
    ['http_proxy', url], ['https_proxy', url], ['no_proxy', noProxy],
    ['HTTP_PROXY', url], ['HTTPS_PROXY', url], ['NO_PROXY', noProxy],
  ];
}

/**
 * Whether the session gets a network of its own. On Docker, sessions share one bridge with inter-container traffic
 * off; Podman's bridge networks ignore enable_icc, so there a shared network would let sessions reach each other,
 * and each gets its own. An allow-list always needs its own internal network, behind the egress proxy.
 */
export function needsOwnNetwork(engine: Engine, request: NetworkRequest): boolean {
  return engine.capabilities.perSessionNetwork || Boolean(request.allow && request.allow.length > 0);
}

/**
 * Create the session's network (and wire the proxy when there is an
 * allow-list). Returns the variables the session needs.
 */
export async function prepareSessionNetwork(
  ctx: Context,
  engine: Engine,
  session: string,
  labels: Record<string, string>,
  request: NetworkRequest,
  build: { base?: string | undefined; noBuild: boolean },
  isolatedInspected?: Promise<NetworkInspect | undefined>,
): Promise<Array<[string, string]>> {
  const name = sessionNetworkName(session);
  const egress = request.allow && request.allow.length > 0;
  if (!needsOwnNetwork(engine, request)) {
    await ensureIsolatedNetwork(engine, isolatedInspected);
    return [];
  }
  try {
    await engine.networks.create({
      name,
      labels: egress ? { ...labels, [EGRESS_ALLOW_LABEL]: request.allow!.join(',') } : labels,
      internal: Boolean(egress),
      // Alone on its network icc hardly matters; behind the proxy the session must reach it.
      options: egress ? {} : { 'com.docker.network.bridge.enable_icc': 'false' },
    });
  } catch (error) {
    if (isConflict(error)) {
      throw new UsageError(`session name "${session}" is taken (a network named ${name} exists)`, { hint: `Remove it with: aca rm ${session}` });
    }
    if (error instanceof EngineApiError && /address pool/i.test(error.message)) {
      throw new AcaError(`cannot create the session network ${name}: the engine has no address range left (${error.message})`, {
        hint: 'Remove unused networks (aca gc), give the engine more default-address-pools (daemon.json), or join an existing one with --network NAME.',
      });
    }
    throw error;
  }
  if (!egress) return [];
  try {
    const egressNetwork = request.egressNetwork ?? 'bridge';
    const proxy = await attachProxy(ctx, engine, name, egressNetwork, build);
    const config = JSON.stringify({ session, allow: request.allow });
    const write = await engine.execWithInput(proxy.id, {
      // A proxy that has just started may not listen yet: wait (at most 10 s) for it to say so.
      cmd: ['/bin/sh', '-c', `i=0; while [ ! -e ${CONFIG_DIR}/.listening ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; ` +
        `[ -e ${CONFIG_DIR}/.listening ] || { echo "the proxy did not start listening" >&2; exit 1; }; ` +
        `cat > ${CONFIG_DIR}/${proxy.address}.json.tmp && mv -f ${CONFIG_DIR}/${proxy.address}.json.tmp ${CONFIG_DIR}/${proxy.address}.json`],
      input: Buffer.from(config),
    });
    if (write.exitCode !== 0) throw new AcaError(`cannot give the egress proxy the allow-list of ${session}: ${write.output.trim()}`);
    ctx.out.debug(`egress for ${session} through ${proxy.address}:${EGRESS_PORT}, allowing ${request.allow!.join(', ')}`);
    return proxyEnv(proxy.address);
  } catch (error) {
    await releaseSessionNetwork(engine, session).catch(() => {});
    throw error;
  }
}

async function ensureEgressImage(ctx: Context, engine: Engine, image: string, build: { base?: string | undefined; noBuild: boolean }): Promise<void> {
  if (await engine.images.inspect(image)) return;
  if (build.noBuild) throw new AcaError(`image ${image} does not exist and --no-build forbids building it`);
  // Its base is aca's build base; checked (and pulled) first, so a machine without a registry hears what to do.
  const base = await ensureBuildBase(ctx, engine, image, build.base, 'egress');
  announceBuild(ctx, image, base, 'egress');
  await runBuild(ctx, engine, {
    context: EGRESS_DIR,
    dockerfile: 'Dockerfile',
    tags: [image],
    buildArgs: { BASE: base },
    noCache: false,
    labels: { [LABEL.managed]: 'true', [LABEL.image]: 'egress' },
  });
}

function proxyBody(image: string, egressNetwork: string): ContainerCreateBody {
  return {
    Image: image,
    Env: [`ACA_EGRESS_PORT=${EGRESS_PORT}`, `ACA_EGRESS_CONFIG=${CONFIG_DIR}`],
    Labels: { [LABEL.managed]: 'true', [EGRESS_LABEL]: 'true', [EGRESS_NETWORK_LABEL]: egressNetwork, [LABEL.version]: VERSION },
    User: '65534:65534',
    WorkingDir: '/',
    ...DETACHED_STDIO,
    HostConfig: serviceHostConfig({
      binds: [],
      tmpfs: { [CONFIG_DIR]: 'rw,nosuid,nodev,noexec,size=4m,uid=65534,gid=65534,mode=0700', '/tmp': 'rw,nosuid,nodev,noexec,size=16m,mode=1777' },
      network: egressNetwork,
      memory: 256 * 1024 * 1024,
    }),
  };
}

interface ContainerNetworks {
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
  State: { Running: boolean };
  Config: { Labels: Record<string, string> | null };
}

/** Make sure the proxy for this egress network runs, and attach it to the session's network. */
async function attachProxy(
  ctx: Context,
  engine: Engine,
  network: string,
  egressNetwork: string,
  build: { base?: string | undefined; noBuild: boolean },
): Promise<{ id: string; address: string }> {
  if (!(await engine.networks.inspect(egressNetwork))) throw new UsageError(`--egress-network: no such network: ${egressNetwork}`);
  const name = egressProxyName(egressNetwork);
  // Another aca may remove the proxy between our steps (its last session ended): retry from scratch.
  for (let attempt = 1; ; attempt++) {
    try {
      let info = (await engine.inspectContainer(name).catch(() => undefined)) as unknown as (ContainerNetworks & { Id: string }) | undefined;
      if (info && info.Config.Labels?.[EGRESS_LABEL] !== 'true') throw new AcaError(`a container named ${name} exists but is not aca's egress proxy`);
      if (!info) {
        const image = egressImage();
        await ensureEgressImage(ctx, engine, image, build);
        try {
          await engine.createContainer(name, proxyBody(image, egressNetwork));
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
        info = (await engine.inspectContainer(name)) as unknown as ContainerNetworks & { Id: string };
      }
      if (!info.State.Running) await engine.startContainer(info.Id);
      await engine.networks.connect(network, info.Id);
      const attached = (await engine.inspectContainer(info.Id)) as unknown as ContainerNetworks;
      const address = attached.NetworkSettings?.Networks?.[network]?.IPAddress;
      if (!address) throw new AcaError(`the egress proxy has no address on ${network}`);
      return { id: info.Id, address };
    } catch (error) {
      if (attempt < 3 && (isNotFound(error) || isConflict(error))) continue;
      throw error;
    }
  }
}

/**
 * Remove a session's network, after its container is gone. When the egress
 * proxy was attached, it forgets the session's allow-list and is detached;
 * if no session uses it any more, it is removed too. Never touches a network
 * or container without aca.managed=true. Safe to call more than once.
 */
export async function releaseSessionNetwork(engine: Engine, session: string): Promise<void> {
  const name = sessionNetworkName(session);
  const network = await engine.networks.inspect(name);
  if (!network || network.Labels?.[LABEL.managed] !== 'true') return;
  const proxies: string[] = [];
  for (const [id, endpoint] of Object.entries(network.Containers ?? {})) {
    const info = (await engine.inspectContainer(id).catch(() => undefined)) as unknown as (ContainerNetworks & { Id: string }) | undefined;
    if (info?.Config.Labels?.[EGRESS_LABEL] !== 'true') continue;
    proxies.push(info.Id);
    const address = endpoint.IPv4Address.split('/')[0];
    if (info.State.Running && address) {
      await engine.execWithInput(info.Id, { cmd: ['rm', '-f', `${CONFIG_DIR}/${address}.json`] }).catch(() => {});
    }
    await engine.networks.disconnect(name, info.Id);
  }
  // Still in use (a container left on it): said, so the caller can warn; gc removes it later.
  if (!(await engine.networks.remove(name))) throw new AcaError(`network ${name} is still in use`);
  for (const id of proxies) await removeProxyIfUnused(engine, id);
}

async function removeProxyIfUnused(engine: Engine, id: string): Promise<void> {
  const info = (await engine.inspectContainer(id).catch(() => undefined)) as unknown as ContainerNetworks | undefined;
  if (!info) return;
  const egressNetwork = info.Config.Labels?.[EGRESS_NETWORK_LABEL];
  const others = Object.keys(info.NetworkSettings?.Networks ?? {}).filter((n) => n !== egressNetwork);
  if (others.length === 0) await engine.removeContainer(id, { force: true });
}
