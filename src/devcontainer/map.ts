/**
 * A devcontainer.json mapped onto aca's own options. The file is project input, so it is hostile until the user
 * trusts its exact contents: what keeps to the sandbox is applied, what would reach the host or widen the sandbox
 * is collected in `widenings` (the caller refuses them unless the file is trusted), and what aca cannot do is
 * said plainly in `unsupported`. Pure: the caller reads the file and decides.
 */
import { dirname, isAbsolute, posix, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
// aca mounts the workspace here; the reference CLI's default `/workspaces/<folder>` is mapped onto it.
import { WORKSPACE_PATH } from '../security.js';
import { checkLifecycleCommand, LIFECYCLE_PROPERTIES, type LifecycleCommand, type LifecycleProperty } from './lifecycle.js';
import { substitute, type VariableContext } from './variables.js';

export interface DevcontainerBuild {
  /** Absolute build context on the host. */
  context: string;
  /** The Dockerfile, relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string | undefined;
  cacheFrom: string[];
}

export interface DevcontainerPlan {
  image?: string | undefined;
  build?: DevcontainerBuild | undefined;
  containerEnv: Array<[string, string]>;
  /** Values prepared for a double-quoted shell word: `${containerEnv:X}` expands inside the session. */
  remoteEnv: Array<[string, string]>;
  user?: string | undefined;
  workdir?: string | undefined;
  /** -v entries and -p entries in aca's flag syntax, checked by the same rules as the flags. */
  volumes: string[];
  ports: string[];
  capAdd: string[];
  privileged: boolean;
  labels: Record<string, string>;
  limits: { cpus?: string | undefined; memory?: string | undefined; pids?: string | undefined };
  lifecycle: Partial<Record<LifecycleProperty, LifecycleCommand>>;
  /** Runs on the host before the session is made: only ever from a trusted file. */
  initializeCommand?: LifecycleCommand | undefined;
  /** customizations.aca: aca's own settings, validated by the caller like a project configuration file. */
  acaSettings?: unknown;
  /** Properties that reach the host or widen the sandbox: refused unless the file is trusted. */
  widenings: string[];
  /** Present but not supported: said on stderr, or refused with --strict. */
  unsupported: string[];
  /** What aca decided for the user to know (one line each). */
  notes: string[];
}

/** Properties that describe things aca does its own way, or that only tools for editors read. */
const IGNORED = new Set(['$schema', 'name', 'customizations', 'shutdownAction', 'overrideCommand', 'waitFor', 'userEnvProbe', 'updateRemoteUserUID', 'otherPortsAttributes', 'portsAttributes', 'overrideFeatureInstallOrder', 'secrets']);

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringOf(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${where}: expected a non-empty string`);
  return value;
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new UsageError(`${where}: expected a list of strings`);
  return value as string[];
}

/** "root", "0" or "0:0": the specification's default user for many images, never aca's without the user's flag. */
export function isRootUser(user: string): boolean {
  return /^(?:root|0)(?::.*)?$/.test(user);
}

/** A mount string ("type=bind,source=...,target=...") or object, as aca's -v entry. */
function mountEntry(value: unknown, where: string): { entry: string; bind: boolean; source: string } {
  let fields: Record<string, string> = {};
  if (typeof value === 'string') {
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
      else if (part.trim() === 'readonly' || part.trim() === 'ro') fields.readonly = 'true';
    }
  } else if (isRecord(value)) {
    fields = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  } else throw new UsageError(`${where}: expected a mount string or object`);
  const type = fields.type ?? 'volume';
  const source = fields.source ?? fields.src ?? '';
  const target = fields.target ?? fields.destination ?? fields.dst ?? '';
  if (!target.startsWith('/')) throw new UsageError(`${where}: a mount needs an absolute target`);
  if (type !== 'bind' && type !== 'volume') throw new UsageError(`${where}: mount type "${type}" is not supported (bind or volume)`);
  if (!source) throw new UsageError(`${where}: a ${type} mount needs a source`);
  const readOnly = fields.readonly === 'true' || fields.readonly === '1' || fields.ro === 'true';
  return { entry: `${source}:${target}${readOnly ? ':ro' : ''}`, bind: type === 'bind', source };
}

/** The runArgs aca accepts from an untrusted file: limits, literal variables, labels, and options that change nothing. */
function mapRunArgs(args: string[], plan: DevcontainerPlan, where: string, env: NodeJS.ProcessEnv, trustedOnly: (what: string) => void): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${where}: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--memory': case '-m': plan.limits.memory = value(); break;
      case '--cpus': plan.limits.cpus = value(); break;
      case '--pids-limit': plan.limits.pids = value(); break;
      case '-e': case '--env': {
        const entry = value();
        if (entry.includes('=')) plan.containerEnv.push([entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
        else {
          trustedOnly(`${where}: ${flag} ${entry} takes the host's value`);
          plan.containerEnv.push([entry, env[entry] ?? '']);
        }
        break;
      }
      case '-l': case '--label': {
        const entry = value();
        const at = entry.indexOf('=');
        plan.labels[at > 0 ? entry.slice(0, at) : entry] = at > 0 ? entry.slice(at + 1) : '';
        break;
      }
      case '--init': case '--rm': case '-it': case '-i': case '-t': case '--interactive': case '--tty': break;
      case '--cap-add': trustedOnly(`${where}: --cap-add`); plan.capAdd.push(value()); break;
      case '-v': case '--volume': trustedOnly(`${where}: ${flag}`); plan.volumes.push(value()); break;
      case '-p': case '--publish': plan.ports.push(value()); break;
      default:
        throw new UsageError(`${where}: "${arg}" is not supported`, {
          hint: 'runArgs may hold --memory, --cpus, --pids-limit, -e K=V, --label and -p; with `aca trust` also --cap-add and -v (through aca\'s checks).',
        });
    }
  }
}

export interface MapInput {
  path: string;
  config: Record<string, unknown>;
  workspace: string;
  env: NodeJS.ProcessEnv;
}

export function mapDevcontainer(input: MapInput): DevcontainerPlan {
  const { config, path } = input;
  const at = (key: string) => `${path}: "${key}"`;
  const plan: DevcontainerPlan = {
    containerEnv: [], remoteEnv: [], volumes: [], ports: [], capAdd: [], privileged: false, labels: {}, limits: {},
    lifecycle: {}, widenings: [], unsupported: [], notes: [],
  };
  const widen = (what: string) => plan.widenings.push(what);

  let workspaceFolder = WORKSPACE_PATH;
  if (config.workspaceFolder !== undefined) {
    const folder = stringOf(config.workspaceFolder, at('workspaceFolder'));
    const inside = posix.relative(WORKSPACE_PATH, folder);
    if (!inside.startsWith('..') && !posix.isAbsolute(inside)) workspaceFolder = folder;
    else if (/^\/workspaces\/[^/]+$/.test(folder)) plan.notes.push(`workspaceFolder ${folder}: the workspace is mounted at ${WORKSPACE_PATH}`);
    else throw new UsageError(`${at('workspaceFolder')}: ${folder} is outside ${WORKSPACE_PATH}, where aca mounts the workspace`);
  }
  const vars: VariableContext = { localWorkspaceFolder: input.workspace, containerWorkspaceFolder: workspaceFolder, env: input.env };
  const sub = (text: string, where: string, shell = false) => {
    const result = substitute(text, vars, { shell });
    for (const name of result.localEnv) widen(`${where}: \${localEnv:${name}} reads the host's environment`);
    return result.text;
  };
  if (workspaceFolder !== WORKSPACE_PATH) plan.workdir = workspaceFolder;

  for (const [key, value] of Object.entries(config)) {
    const where = at(key);
    switch (key) {
      case 'image':
        plan.image = sub(stringOf(value, where), where);
        break;
      case 'build':
      case 'dockerFile':
      case 'dockerfile': {
        const build = key === 'build' ? value : { dockerfile: value, context: config.context };
        if (!isRecord(build)) throw new UsageError(`${where}: expected an object`);
        const base = dirname(path);
        const context = resolve(base, typeof build.context === 'string' ? build.context : '.');
        const dockerfile = resolve(base, stringOf(build.dockerfile ?? build.dockerFile, `${where}.dockerfile`));
        const inContext = relative(context, dockerfile);
        if (inContext.startsWith('..') || isAbsolute(inContext)) throw new UsageError(`${where}.dockerfile: ${dockerfile} must be inside the build context ${context}`);
        const outside = relative(input.workspace, context);
        if (outside.startsWith('..') || isAbsolute(outside)) widen(`${where}.context: ${context} is outside the workspace`);
        const args: Record<string, string> = {};
        if (build.args !== undefined) {
          if (!isRecord(build.args)) throw new UsageError(`${where}.args: expected a map of strings`);
          for (const [k, v] of Object.entries(build.args)) args[k] = sub(String(v), `${where}.args.${k}`);
        }
        const cacheFrom = build.cacheFrom === undefined ? [] : typeof build.cacheFrom === 'string' ? [build.cacheFrom] : stringList(build.cacheFrom, `${where}.cacheFrom`);
        if (build.options !== undefined) plan.unsupported.push(`${where}.options: docker build options are not passed on`);
        plan.build = { context, dockerfile: inContext, args, target: typeof build.target === 'string' ? build.target : undefined, cacheFrom };
        break;
      }
      case 'context':
        break; // read with dockerFile
      case 'containerEnv':
      case 'remoteEnv': {
        if (!isRecord(value)) throw new UsageError(`${where}: expected a map of variables`);
        for (const [k, v] of Object.entries(value)) {
          if (v === null) continue; // the specification's way to unset a remote variable
          if (typeof v !== 'string') throw new UsageError(`${where}.${k}: expected a string`);
          if (key === 'containerEnv') plan.containerEnv.push([k, sub(v, `${where}.${k}`)]);
          else plan.remoteEnv.push([k, sub(v, `${where}.${k}`, true)]);
        }
        break;
      }
      case 'containerUser':
      case 'remoteUser': {
        const user = stringOf(value, where);
        if (isRootUser(user)) plan.notes.push(`${key} ${user}: ignored, sessions never run as root unless you say so with --user`);
        else if (key === 'containerUser' || !plan.user) plan.user = user;
        break;
      }
      case 'workspaceFolder':
        break; // handled first: the variables depend on it
      case 'workspaceMount':
        plan.notes.push(`workspaceMount: ignored, aca mounts the workspace itself (at ${WORKSPACE_PATH}, or a copy with --workspace-mode copy)`);
        break;
      case 'mounts':
        if (!Array.isArray(value)) throw new UsageError(`${where}: expected a list`);
        value.forEach((m, i) => {
          const mount = mountEntry(typeof m === 'string' ? sub(m, `${where}[${i}]`) : m, `${where}[${i}]`);
          if (mount.bind) widen(`${where}[${i}]: binds the host path ${mount.source}`);
          else if (/^aca[-.]/.test(mount.source)) widen(`${where}[${i}]: names aca's volume ${mount.source}`);
          plan.volumes.push(mount.entry);
        });
        break;
      case 'forwardPorts':
      case 'appPort': {
        const ports = Array.isArray(value) ? value : [value];
        for (const p of ports) {
          if (typeof p === 'number' && Number.isInteger(p)) plan.ports.push(`127.0.0.1:${p}:${p}`);
          else if (typeof p === 'string' && /^\d+$/.test(p)) plan.ports.push(`127.0.0.1:${p}:${p}`);
          else if (typeof p === 'string' && /^\d+:\d+$/.test(p)) plan.ports.push(`127.0.0.1:${p}`);
          else if (typeof p === 'string' && /^[^:]+:\d+$/.test(p)) plan.notes.push(`${key} ${p}: ports of other services are not forwarded`);
          else throw new UsageError(`${where}: expected port numbers, got ${JSON.stringify(p)}`);
        }
        break;
      }
      case 'hostRequirements': {
        if (!isRecord(value)) throw new UsageError(`${where}: expected an object`);
        if (value.cpus !== undefined) plan.limits.cpus ??= String(value.cpus);
        if (value.memory !== undefined) plan.limits.memory ??= String(value.memory).replace(/b$/i, '');
        for (const other of Object.keys(value).filter((k) => k !== 'cpus' && k !== 'memory')) plan.notes.push(`hostRequirements.${other}: not checked`);
        break;
      }
      case 'runArgs':
        mapRunArgs(stringList(value, where), plan, where, input.env, widen);
        break;
      case 'privileged':
        if (value === true) {
          widen(`${where}: a privileged session has every capability and the host's devices`);
          plan.privileged = true;
        }
        break;
      case 'capAdd':
        for (const cap of stringList(value, where)) {
          widen(`${where}: ${cap}`);
          plan.capAdd.push(cap);
        }
        break;
      case 'securityOpt':
        if (stringList(value, where).length > 0) {
          throw new UsageError(`${where}: refused: aca sets every session's security options itself (no-new-privileges, seccomp, AppArmor)`, {
            hint: 'Remove securityOpt; for a capability use capAdd (needs `aca trust`), for anything wider run the container yourself.',
          });
        }
        break;
      case 'init':
        break; // aca's sessions always have an init
      case 'initializeCommand':
        plan.initializeCommand = checkLifecycleCommand(value, where);
        widen(`${where}: it runs on the host`);
        break;
      case 'features':
        if (isRecord(value) && Object.keys(value).length > 0) {
          plan.unsupported.push(`features (${Object.keys(value).join(', ')}): skipped, features are fetched from an OCI registry; install them in the image instead`);
        }
        break;
      case 'dockerComposeFile':
      case 'service':
      case 'runServices':
        throw new UsageError(`${where}: Docker Compose configurations are not supported: aca runs one sandboxed container per session`, {
          hint: 'Use an image or build configuration, or ignore the file with --no-devcontainer.',
        });
      default:
        if ((LIFECYCLE_PROPERTIES as readonly string[]).includes(key)) {
          plan.lifecycle[key as LifecycleProperty] = checkLifecycleCommand(value, where);
        } else if (!IGNORED.has(key)) plan.notes.push(`${key}: not used by aca`);
    }
  }
  const customizations = config.customizations;
  if (isRecord(customizations) && customizations.aca !== undefined) plan.acaSettings = customizations.aca;
  if (!plan.image && !plan.build) throw new UsageError(`${path}: names neither "image" nor "build"`);
  return plan;
}
