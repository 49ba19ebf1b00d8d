/**
 * Turn the security flags and config keys of `aca run` into the session's
 * profile: every mount checked, capabilities vetted, secrets and egress
 * parsed. Everything here runs before anything is created, so a refusal
 * leaves nothing behind.
 */
import { homedir } from 'node:os';
import type { VolumeSpec } from '../parse.js';
import { UsageError } from '../errors.js';
import { checkCapabilities } from './capabilities.js';
import type { NetworkConfig, SecurityConfig } from './config.js';
import { parseAllowHost } from './egress.js';
import { DEFAULT_ISOLATION, parseIsolation } from './isolation.js';
import { gitProtection } from './git.js';
import { checkMountSource, knownEngineSockets, probeSockets, type MountFacts } from './mounts.js';
import type { SessionSecurity } from './profile.js';
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
  /** Read-only binds over the workspace (.git/hooks, .git/config). */
  protectedMounts: Array<{ source: string; target: string }>;
  secrets: SecretSpec[];
  /** Names of secrets also exported to the command's environment. */
  secretEnv: string[];
  /** The network to join: "own" (aca-<session>), or a name given by the user. */
  network: { own: true; allow?: string[] | undefined; egressNetwork?: string | undefined } | { own: false; name: string };
  /** What --unsafe let through, for the warning and the audit trail. */
  overrides: string[];
  /** The relaxations asked for (writable-root, cap-add=X, ...). */
  relaxed: string[];
}

export interface SecurityInput {
  flags: SecurityFlags;
  file: SecurityConfig & { network?: string | NetworkConfig | undefined };
  /** Where relative config paths (file:PATH) resolve. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  workspace?: { hostPath: string; readOnly: boolean; bound: boolean } | undefined;
  volumes: VolumeSpec[];
  networkFlag?: string | undefined;
}

export function mountFacts(env: NodeJS.ProcessEnv): MountFacts {
  const homes = [...new Set([homedir(), env.HOME].filter((h): h is string => Boolean(h) && h !== '/'))];
  return { homes, engineSockets: knownEngineSockets(env) };
}

export async function resolveSecurity(input: SecurityInput): Promise<ResolvedSecurity> {
  const { flags, file } = input;
  const unsafe = Boolean(flags.unsafe);
  const overrides: string[] = [];
  const relaxed: string[] = [];

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
  if (input.workspace?.bound && !input.workspace.readOnly) {
    if (protectGit) {
      for (const path of gitProtection(input.workspace.hostPath)) {
        checkMountSource(path.source, `workspace ${path.relative}`, facts);
        protectedMounts.push({ source: path.source, target: `/workspace/${path.relative}` });
      }
    } else relaxed.push('no-protect-git');
  }
  await probeSockets(toProbe);

  // Capabilities and privilege.
  const requested = [...(file.capAdd ?? []), ...(flags.capAdd ?? [])];
  const { caps, overridden } = checkCapabilities(requested, unsafe);
  overrides.push(...overridden.map((c) => `cap-add=${c}`));
  relaxed.push(...caps.map((c) => `cap-add=${c}`));
  if (flags.privileged) {
    if (!unsafe) {
      throw new UsageError('--privileged: refused: a privileged session has every capability and the host\'s devices (rule: --privileged needs --unsafe)', {
        hint: 'Add --unsafe to allow it anyway; it is recorded in the audit trail.',
      });
    }
    overrides.push('privileged');
    relaxed.push('privileged');
  }
  const writableRoot = Boolean(flags.writableRoot ?? file.writableRoot);
  if (writableRoot) relaxed.push('writable-root');

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
  const network: ResolvedSecurity['network'] = named ? { own: false, name: named } : { own: true, allow: allow.length > 0 ? allow : undefined, egressNetwork };

  return {
    security: {
      writableRoot,
      capAdd: caps,
      privileged: Boolean(flags.privileged),
      unsafe,
      runtime: flags.runtime ?? file.runtime,
      isolationChoice: flags.isolation
        ? parseIsolation(flags.isolation)
        : (file.isolation ?? (input.env.ACA_ISOLATION ? parseIsolation(input.env.ACA_ISOLATION, 'ACA_ISOLATION') : DEFAULT_ISOLATION)),
      gitUnprotected: relaxed.includes('no-protect-git'),
      secrets: secrets.length > 0,
    },
    protectedMounts,
    secrets,
    secretEnv,
    network,
    overrides,
    relaxed,
  };
}
