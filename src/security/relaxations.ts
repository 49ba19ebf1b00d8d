/**
 * Every way a session is wider than aca's default profile, with where it came from: a flag, the user's
 * configuration file, or a project file the user trusted. The same list goes to the audit trail, to the session's
 * labels (aca.security.relaxed, and aca.security.relaxed-from with the sources) and to `aca inspect --security`.
 */
import type { LoadedConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';

export interface Relaxation {
  /** e.g. writable-root, cap-add=NET_ADMIN, volume=/data:/data, secret=TOKEN, env=GITHUB_TOKEN. */
  what: string;
  /** "flag", "user config FILE" or "trusted project file FILE". */
  from: string;
}

export const RELAXED_LABEL = 'aca.security.relaxed';
export const RELAXED_FROM_LABEL = 'aca.security.relaxed-from';

export const FLAG = 'flag';

/** Where a configuration key's value came from, in words. */
export function configOrigin(config: Pick<LoadedConfig, 'sources' | 'origins'>, key: ConfigKey): string {
  const file = config.sources[key] ?? '?';
  return config.origins[key] === 'project' ? `trusted project file ${file}` : `user config ${file}`;
}

export function relaxationLabels(relaxations: Relaxation[]): Record<string, string> {
  if (relaxations.length === 0) return {};
  return {
    [RELAXED_LABEL]: relaxations.map((r) => r.what).join(','),
    [RELAXED_FROM_LABEL]: JSON.stringify(relaxations.map((r) => [r.what, r.from])),
  };
}

/** The relaxations recorded on a session; a session made before sources were recorded says "unknown". */
export function readRelaxations(labels: Record<string, string>): Relaxation[] {
  try {
    const pairs = JSON.parse(labels[RELAXED_FROM_LABEL] ?? '') as unknown;
    if (Array.isArray(pairs)) return pairs.map((p) => ({ what: String((p as unknown[])[0]), from: String((p as unknown[])[1]) }));
  } catch {
    /* an older session: the names alone */
  }
  return (labels[RELAXED_LABEL] ?? '').split(',').filter(Boolean).map((what) => ({ what, from: 'unknown' }));
}

/** Values that come from a config key and from flags: each one attributed, flags last (as they are applied). */
export function attribute(fromFile: readonly string[] | undefined, fromFlags: readonly string[] | undefined, origin: string, name: string): Relaxation[] {
  return [
    ...(fromFile ?? []).map((v) => ({ what: `${name}=${v}`, from: origin })),
    ...(fromFlags ?? []).map((v) => ({ what: `${name}=${v}`, from: FLAG })),
  ];
}

export interface HostFacing {
  config: Pick<LoadedConfig, 'sources' | 'origins' | 'values'>;
  flags: { env?: string[]; volume?: string[]; publish?: string[]; user?: string; caCerts?: string; cache?: string[] };
  /** The CA bundle handed to the session, when one was named explicitly. */
  caCerts?: string | undefined;
}

/** What reaches the session from the host outside the security profile: host env, mounts, ports, user, CA file, caches. */
export function hostRelaxations({ config, flags, caCerts }: HostFacing): Relaxation[] {
  const file = config.values;
  const fromHost = (entries: readonly string[] | undefined) => entries?.filter((e) => !e.includes('='));
  const out = [
    ...attribute(fromHost(file.env), fromHost(flags.env), configOrigin(config, 'env'), 'env'),
    ...attribute(file.volumes, flags.volume, configOrigin(config, 'volumes'), 'volume'),
    ...attribute(file.ports, flags.publish, configOrigin(config, 'ports'), 'publish'),
    ...attribute(file.caches, flags.cache, configOrigin(config, 'caches'), 'cache'),
  ];
  const user = flags.user ?? file.user;
  if (user !== undefined) out.push({ what: `user=${user}`, from: flags.user !== undefined ? FLAG : configOrigin(config, 'user') });
  if (caCerts && (flags.caCerts ?? file.caCerts)) out.push({ what: `ca-certs=${caCerts}`, from: flags.caCerts ? FLAG : configOrigin(config, 'caCerts') });
  return out;
}
