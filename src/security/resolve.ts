/**
 * Turn the security flags and config keys of `aca run` into the session's
 * profile: every mount checked, capabilities vetted, secrets and egress
 * parsed. Everything here runs before anything is created, so a refusal
 * leaves nothing behind.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import type { VolumeSpec } from '../parse.js';
import { UsageError } from '../errors.js';
import { stateDir, userConfigDir } from '../state-dir.js';
import { checkCapabilities, normaliseCapability } from './capabilities.js';
import type { NetworkConfig, SecurityConfig } from './config.js';
import { parseAllowHost } from './egress.js';
import { gitProtection, type ProtectedMount } from './git.js';
import { DEFAULT_ISOLATION, parseIsolation } from './isolation.js';
import { checkMountSource, knownEngineSockets, probeSockets, type MountFacts } from './mounts.js';
import type { SessionSecurity } from './profile.js';
import { attribute, FLAG, type Relaxation } from './relaxations.js';
import { parseSecret, type SecretSpec } from './secrets.js';

export interface SecurityFlags {
  writableRoot?: boolean;
  capAdd?: string[];
  privileged?: boolean;
  unsafe?: boolean;
  runtime?: string;
  isolation?: string;
  protectGit?: boolean;
  secret?: string[];
  secretEnv?: string[];
  allowHost?: string[];
  egressNetwork?: string;
}

export interface ResolvedSecurity {
  security: SessionSecurity;
  /** Read-only mounts of the workspace's git metadata (security/git.ts). */
  protectedMounts: ProtectedMount[];
  /** Said once on stderr before the session starts. */
  notes: string[];
  secrets: SecretSpec[];
  /** Names of secrets also exported to the command's environment. */
  secretEnv: string[];
  /** The network to join: "own" (aca-<session>), or a name given by the user. */
  network: { own: true; allow?: string[] | undefined; egressNetwork?: string | undefined } | { own: false; name: string };
  /** What --unsafe let through, for the warning and the audit trail. */
  overrides: string[];
  /** The relaxations asked for (writable-root, cap-add=X, ...): the names of `relaxations`. */
  relaxed: string[];
  /** Each relaxation with where it came from (flag, user config, trusted project file). */
  relaxations: Relaxation[];
}

/** The configuration keys a relaxation here can come from (the caller names the file that set each). */
export type RelaxingKey = 'secrets' | 'secretEnv' | 'capAdd' | 'network' | 'protectGit' | 'runtime' | 'writableRoot';

export interface SecurityInput {
  flags: SecurityFlags;
  file: SecurityConfig & { network?: string | NetworkConfig | undefined };
  /** Where relative config paths (file:PATH) resolve. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  workspace?: { hostPath: string; readOnly: boolean; bound: boolean } | undefined;
  volumes: VolumeSpec[];
  networkFlag?: string | undefined;
  /** Where a configuration key's value came from, in words ("user config FILE"). */
  origin?: ((key: RelaxingKey) => string) | undefined;
}

export function mountFacts(env: NodeJS.ProcessEnv): MountFacts {
  const homes = [...new Set([homedir(), env.HOME].filter((h): h is string => Boolean(h) && h !== '/'))];
  const acaDirs = [stateDir(env), userConfigDir(env)].filter((d): d is string => Boolean(d)).map((d) => {
    try {
      return realpathSync(d); // mount sources are compared after their symlinks are resolved
    } catch {
      return d;
    }
  });
  return { homes, engineSockets: knownEngineSockets(env), acaDirs };
}

export async function resolveSecurity(input: SecurityInput): Promise<ResolvedSecurity> {
  const { flags, file } = input;
  const unsafe = Boolean(flags.unsafe);
  const overrides: string[] = [];
  const relaxations: Relaxation[] = [];
  const origin = input.origin ?? (() => 'config');
  const relax = (what: string, flagGiven: boolean, key: RelaxingKey) => relaxations.push({ what, from: flagGiven ? FLAG : origin(key) });

  // Mounts: the workspace and every host path, after resolving symlinks.
  const facts = mountFacts(input.env);
  const toProbe: Array<{ what: string; sockets: string[] }> = [];
  if (input.workspace) {
    const checked = checkMountSource(input.workspace.hostPath, `workspace ${input.workspace.hostPath}`, facts);
    toProbe.push({ what: `workspace ${input.workspace.hostPath}`, sockets: checked.sockets });
  }
  for (const volume of input.volumes) {
    if (!volume.source.startsWith('/')) continue; // a named engine volume, not a host path
    const what = `-v ${volume.source}`;
    toProbe.push({ what, sockets: checkMountSource(volume.source, what, facts).sockets });
  }
  const protectedMounts: ResolvedSecurity['protectedMounts'] = [];
  const protectGit = flags.protectGit === false ? false : (file.protectGit ?? true);
  const notes: string[] = [];
  if (input.workspace?.bound && !input.workspace.readOnly) {
    if (protectGit) {
      // The repository's metadata as a whole, read-only (security/git.ts).
      const git = gitProtection(input.workspace.hostPath, input.env);
      for (const mount of git.mounts) {
        if ('source' in mount) checkMountSource(mount.source, `workspace git metadata ${mount.source}`, facts);
        protectedMounts.push(mount);
      }
      notes.push(...git.notes);
    } else relax('no-protect-git', flags.protectGit === false, 'protectGit');
  }
  await probeSockets(toProbe);

  // Capabilities and privilege.
  const requested = [...(file.capAdd ?? []), ...(flags.capAdd ?? [])];
  const { caps, overridden } = checkCapabilities(requested, unsafe);
  overrides.push(...overridden.map((c) => `cap-add=${c}`));
  const capsByFlag = new Set((flags.capAdd ?? []).map((c) => normaliseCapability(c)));
  for (const cap of caps) relax(`cap-add=${cap}`, capsByFlag.has(cap), 'capAdd');
  if (flags.privileged) {
    if (!unsafe) {
      throw new UsageError('--privileged: refused: a privileged session has every capability and the host\'s devices (rule: --privileged needs --unsafe)', {
        hint: 'Add --unsafe to allow it anyway; it is recorded in the audit trail.',
      });
    }
    overrides.push('privileged');
    relaxations.push({ what: 'privileged', from: FLAG });
  }
  const writableRoot = Boolean(flags.writableRoot ?? file.writableRoot);
  if (writableRoot) relax('writable-root', flags.writableRoot !== undefined, 'writableRoot');
  const runtime = flags.runtime ?? file.runtime;
  if (runtime) relax(`runtime=${runtime}`, flags.runtime !== undefined, 'runtime');

  // Secrets.
  const byName = new Map<string, SecretSpec>();
  for (const s of (file.secrets ?? []).map((e) => parseSecret(e, input.cwd, 'secrets'))) byName.set(s.name, s);
  for (const s of (flags.secret ?? []).map((e) => parseSecret(e, input.cwd))) byName.set(s.name, s);
  const secretEnv: string[] = [];
  const envEntries = [...(file.secretEnv ?? []).map((e) => [e, 'secretEnv'] as const), ...(flags.secretEnv ?? []).map((e) => [e, '--secret-env'] as const)];
  for (const [entry, flag] of envEntries) {
    const spec = parseSecret(entry, input.cwd, flag);
    // --secret-env NAME is a secret too; a bare NAME may refer to a --secret already given.
    if (entry.includes('=') || !byName.has(spec.name)) byName.set(spec.name, spec);
    if (!secretEnv.includes(spec.name)) secretEnv.push(spec.name);
  }
  const secrets = [...byName.values()];
  relaxations.push(
    ...attribute(file.secrets?.map((e) => parseSecret(e, input.cwd, 'secrets').name), flags.secret?.map((e) => parseSecret(e, input.cwd).name), origin('secrets'), 'secret'),
    ...attribute(file.secretEnv?.map((e) => parseSecret(e, input.cwd, 'secretEnv').name), flags.secretEnv?.map((e) => parseSecret(e, input.cwd, '--secret-env').name), origin('secretEnv'), 'secret-env'),
  );

  // Network.
  const fileNetwork = typeof file.network === 'string' ? { name: file.network } : (file.network ?? {});
  const allow = [...(fileNetwork.allow ?? []), ...(flags.allowHost ?? [])].map((h) => parseAllowHost(h));
  const egressNetwork = flags.egressNetwork ?? fileNetwork.egressNetwork;
  const named = input.networkFlag ?? (allow.length > 0 && flags.allowHost?.length ? undefined : fileNetwork.name);
  if (named === 'host' || named?.startsWith('container:')) {
    throw new UsageError(`--network ${named}: refused: it shares ${named === 'host' ? "the host's" : "another container's"} network namespace (rule: host namespaces are never shared)`);
  }
  if (named && allow.length > 0) {
    throw new UsageError(`--allow-host: cannot be combined with --network ${named}: an allow-list needs aca's own internal network`);
  }
  if (egressNetwork && allow.length === 0) throw new UsageError('--egress-network: only applies with --allow-host (or network.allow)');
  if (named) relax(`network=${named}`, input.networkFlag !== undefined, 'network');
  if (egressNetwork && allow.length > 0) relax(`egress-network=${egressNetwork}`, flags.egressNetwork !== undefined, 'network');
  const network: ResolvedSecurity['network'] = named ? { own: false, name: named } : { own: true, allow: allow.length > 0 ? allow : undefined, egressNetwork };

  return {
    security: {
      writableRoot,
      capAdd: caps,
      privileged: Boolean(flags.privileged),
      unsafe,
      runtime,
      isolationChoice: flags.isolation
        ? parseIsolation(flags.isolation)
        : (file.isolation ?? (input.env.ACA_ISOLATION ? parseIsolation(input.env.ACA_ISOLATION, 'ACA_ISOLATION') : DEFAULT_ISOLATION)),
      gitUnprotected: relaxations.some((r) => r.what === 'no-protect-git'),
      secrets: secrets.length > 0,
    },
    protectedMounts,
    notes,
    secrets,
    secretEnv,
    network,
    overrides,
    relaxed: relaxations.map((r) => r.what),
    relaxations,
  };
}
