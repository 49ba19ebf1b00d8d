/** The relaxations a session gets from the host outside its security profile, from flags and configuration files. */
import { configOrigin, type LoadedConfig } from '../config/load.js';
import { attribute, FLAG, type Relaxation } from '../security/relaxations.js';

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
