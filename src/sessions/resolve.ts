/**
 * Turn what the user typed (a session name, or an id prefix) into exactly one
 * aca-managed container. Only containers labelled aca.managed=true are
 * candidates, so a foreign container is never matched, whatever its name.
 */
import { type ContainerInspect, type ContainerSummary, type Engine, isNotFound } from '../engine/index.js';
import { SessionNotFoundError } from '../errors.js';
import { LABEL, MANAGED_FILTER, containerName } from '../labels.js';

export interface SessionRef {
  name: string;
  id: string;
  summary: ContainerSummary;
  /** The container's whole inspect: the one that resolved the name, or else asked once. */
  inspect(): Promise<ContainerInspect>;
}

export function sessionName(summary: ContainerSummary): string {
  return summary.Labels?.[LABEL.session] ?? summary.Names[0]?.replace(/^\//, '') ?? summary.Id.slice(0, 12);
}

/** Pure matching, for unit tests: exact name first, then a unique id prefix. */
export function matchSession(all: ContainerSummary[], query: string): ContainerSummary {
  const byName = all.filter((c) => sessionName(c) === query);
  if (byName.length === 1) return byName[0]!;
  const byId = query.length >= 1 && /^[0-9a-f]+$/.test(query) ? all.filter((c) => c.Id.startsWith(query)) : [];
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) {
    throw new SessionNotFoundError(`session id prefix "${query}" is ambiguous: ${byId.map(sessionName).join(', ')}`);
  }
  throw new SessionNotFoundError(`no such session: ${query}`, { hint: 'List sessions with: aca ps --all' });
}

/** Sessions only: aca's helper containers (storage set-up, the egress proxy) are not sessions. */
export async function listSessions(engine: Engine, all = true): Promise<ContainerSummary[]> {
  const containers = await engine.listContainers([MANAGED_FILTER, LABEL.session], all);
  return containers.filter((c) => !c.Labels?.[LABEL.helper]);
}

/**
 * Resolve a session. The common case, a name, costs one inspect of
 * aca-<name>; only an id prefix (or a miss) lists every aca container.
 */
export async function resolveSession(engine: Engine, query: string): Promise<SessionRef> {
  if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(query)) {
    try {
      const info = await engine.inspectContainer(containerName(query));
      if (info.Config.Labels?.[LABEL.managed] === 'true' && info.Config.Labels[LABEL.session] === query) {
        return { name: query, id: info.Id, summary: summaryOf(info), inspect: () => Promise.resolve(info) };
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  const summary = matchSession(await listSessions(engine), query);
  let info: Promise<ContainerInspect> | undefined;
  return { name: sessionName(summary), id: summary.Id, summary, inspect: () => (info ??= engine.inspectContainer(summary.Id)) };
}

function summaryOf(info: ContainerInspect): ContainerSummary {
  return {
    Id: info.Id,
    Names: [info.Name],
    Image: info.Config.Image,
    State: info.State.Status,
    Status: info.State.Status,
    Created: Math.floor(Date.parse(info.Created) / 1000),
    Labels: info.Config.Labels,
  };
}
