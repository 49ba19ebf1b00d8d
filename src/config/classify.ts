/**
 * What a project file may set without the user's trust: one table, every configuration key in it (the type makes a
 * new key fail to compile until it is classified here and in README's "Trust model").
 *
 * - neutral: changes nothing the sandbox protects (which image, the working directory, labels outside aca.*).
 * - narrowing: allowed while the value is no wider than the user's own value (or aca's default); a wider one is
 *   refused like a widening key.
 * - widening: reaches the host or weakens the sandbox; refused from a project file the user has not trusted.
 *
 * The agent presets (issue: `agents`/`--agent`) belong here too: choosing a preset by name is neutral, defining or
 * changing one ("agents") is widening, since a preset carries its own mounts, env and network.
 */
import { availableParallelism } from 'node:os';
import { parseBytes, parseCpus, parseDuration, parsePositiveInt } from '../parse.js';
import { DEFAULT_LIMITS } from '../security.js';
import type { NetworkConfig } from '../security/config.js';
import type { AcaConfig, ConfigKey } from './schema.js';

/** Why a project value is wider than the baseline, or undefined when it is not. */
type Narrowing = (project: unknown, baseline: unknown) => string | undefined;

/** limit: a narrower project value replaces the user's (a lower memory limit); otherwise the user's value wins. */
export type KeyClass = { kind: 'neutral'; why: string } | { kind: 'widening'; why: string } | { kind: 'narrowing'; why: string; check: Narrowing; limit: boolean };

const neutral = (why: string): KeyClass => ({ kind: 'neutral', why });
const widening = (why: string): KeyClass => ({ kind: 'widening', why });
const narrowing = (why: string, check: Narrowing, limit = true): KeyClass => ({ kind: 'narrowing', why, check, limit });

/** A limit: the project's value may be lower than or equal to the baseline, never higher. */
function atMost(measure: (value: string) => number, show = (v: unknown) => String(v)): Narrowing {
  return (project, baseline) => {
    if (baseline === undefined) return undefined;
    return measure(String(project)) > measure(String(baseline)) ? `${show(project)} is above ${show(baseline)}` : undefined;
  };
}

const WORKSPACE_RANK: Record<string, number> = { ro: 0, copy: 1, bind: 2 };

function allowList(network: unknown): string[] | undefined {
  return typeof network === 'object' && network !== null ? (network as NetworkConfig).allow : undefined;
}

/** A project may only add an allow-list (fewer hosts): no network name, no egress network, a subset of the user's list. */
const narrowerNetwork: Narrowing = (project, baseline) => {
  if (typeof project === 'string') return `joins the network "${project}"`;
  const { name, egressNetwork, allow } = project as NetworkConfig;
  if (name !== undefined) return `joins the network "${name}"`;
  if (egressNetwork !== undefined) return `sends traffic out through the network "${egressNetwork}"`;
  if (!allow || allow.length === 0) return 'removes the allow-list';
  if (baseline === undefined) return undefined; // the default reaches every host: any allow-list is fewer
  const allowed = allowList(baseline);
  if (!allowed) return 'replaces your network setting';
  const extra = allow.filter((host) => !allowed.includes(host));
  return extra.length > 0 ? `allows ${extra.join(', ')}, which your allow-list does not` : undefined;
};

export const KEY_CLASSES: Record<ConfigKey, KeyClass> = {
  image: neutral('the session image (the sandbox is the same for every image)'),
  agent: neutral('selects a preset defined by aca or by the user\'s own configuration'),
  agents: widening('defines agent presets: their image, command, secrets and hosts'),
  base: neutral('the base image aca build starts from'),
  workdir: neutral('a directory inside the session'),
  labels: neutral('labels on the session (aca.* is reserved and refused)'),
  detachKeys: neutral('a terminal key sequence'),
  health: neutral('a health check that runs inside the session'),
  monitor: neutral('alert thresholds'),
  memory: narrowing('memory limit: lower only', atMost((v) => parseBytes(v, 'memory'))),
  cpus: narrowing('CPU limit: lower only', atMost((v) => parseCpus(v, 'cpus'))),
  pids: narrowing('process limit: lower only', atMost((v) => parsePositiveInt(v, 'pids'))),
  disk: narrowing('disk limit: lower only', atMost((v) => parseBytes(v, 'disk'))),
  timeout: narrowing('a timeout: shorter only', atMost((v) => parseDuration(v, 'timeout'))),
  ttl: narrowing('time to live of a detached session: shorter only', atMost((v) => parseDuration(v, 'ttl'))),
  workspaceMode: narrowing('workspace mode: bind → copy → ro only', (project, baseline) =>
    WORKSPACE_RANK[String(project)]! > WORKSPACE_RANK[String(baseline ?? 'bind')]! ? `"${String(project)}" is wider than "${String(baseline ?? 'bind')}"` : undefined),
  writableRoot: narrowing('false only', (project) => (project === true ? 'makes the root filesystem writable' : undefined)),
  protectGit: narrowing('true only', (project) => (project === false ? 'stops protecting .git' : undefined)),
  isolation: narrowing('gvisor only (a second kernel in between)', (project) => (project !== 'gvisor' ? `"${String(project)}" may run the session on the host's kernel` : undefined)),
  network: narrowing('an allow-list of fewer hosts only', narrowerNetwork),
  env: narrowing('literal NAME=VALUE only', (project) => {
    const fromHost = (project as string[]).filter((entry) => !entry.includes('='));
    return fromHost.length > 0 ? `takes ${fromHost.join(', ')} from your environment` : undefined;
  }, false),
  secrets: widening('hands host files or variables to the session'),
  secretEnv: widening('hands host files or variables to the session'),
  volumes: widening('mounts host paths or volumes'),
  caches: widening('mounts cache volumes shared with other sessions'),
  ports: widening('publishes ports on the host'),
  caCerts: widening('reads a host file into the session'),
  user: widening('chooses the user the session runs as'),
  capAdd: widening('adds capabilities'),
  runtime: widening('chooses the container runtime'),
  engine: widening('chooses which engine (and so which daemon) runs the session'),
  host: widening('sends the session, and a copy of the workspace, to another engine'),
};

/** aca's own defaults for the narrowing keys, the baseline when the user's file does not set one. */
export function narrowingDefaults(): Partial<AcaConfig> {
  return { memory: DEFAULT_LIMITS.memory, cpus: DEFAULT_LIMITS.cpus(availableParallelism()), pids: DEFAULT_LIMITS.pids, disk: DEFAULT_LIMITS.disk };
}

export interface Widening {
  key: ConfigKey;
  why: string;
}

/** The keys of a project file that widen the sandbox beyond `baseline` (the user's values over aca's defaults). */
export function wideningKeys(project: AcaConfig, baseline: AcaConfig): Widening[] {
  const out: Widening[] = [];
  for (const key of Object.keys(project) as ConfigKey[]) {
    const rule = KEY_CLASSES[key];
    if (rule.kind === 'widening') out.push({ key, why: rule.why });
    else if (rule.kind === 'narrowing') {
      const why = rule.check(project[key], baseline[key]);
      if (why) out.push({ key, why });
    }
  }
  return out;
}

/** The value that applies when both files set a key: the user's, except a project value that narrows it. */
export function mergeKey(key: ConfigKey, user: unknown, project: unknown): 'user' | 'project' {
  const rule = KEY_CLASSES[key];
  return rule.kind === 'narrowing' && rule.limit && !rule.check(project, user) ? 'project' : 'user';
}
