/**
 * Labels are how aca finds what it owns. Every engine object aca creates
 * carries aca.managed=true; nothing without it is ever touched.
 */
export const LABEL = {
  managed: 'aca.managed',
  session: 'aca.session',
  workspace: 'aca.workspace',
  created: 'aca.created',
  owner: 'aca.owner',
  ownerHost: 'aca.owner.host',
  ownerPid: 'aca.owner.pid',
  ownerBoot: 'aca.owner.boot',
  mode: 'aca.mode',
  version: 'aca.version',
  image: 'aca.image',
} as const;

export const MANAGED_FILTER = `${LABEL.managed}=true`;

/** The engine-side container name of a session: visible and obvious in `docker ps`. */
export function containerName(session: string): string {
  return `aca-${session}`;
}
