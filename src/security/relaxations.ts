/**
 * Every way a session is wider than aca's default profile, with where it came from: a flag, the user's
 * configuration file, or a project file the user trusted. The same list goes to the audit trail, to the session's
 * labels (aca.security.relaxed, and aca.security.relaxed-from with the sources) and to `aca inspect --security`.
 */
export interface Relaxation {
  /** e.g. writable-root, cap-add=NET_ADMIN, volume=/data:/data, secret=TOKEN, env=GITHUB_TOKEN. */
  what: string;
  /** "flag", "user config FILE" or "trusted project file FILE". */
  from: string;
}

export const RELAXED_LABEL = 'aca.security.relaxed';
export const RELAXED_FROM_LABEL = 'aca.security.relaxed-from';

export const FLAG = 'flag';

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
