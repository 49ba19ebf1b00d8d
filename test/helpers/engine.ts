/** Test-side access to the real engine: inspect what aca created, and clean up by label. */
import type { ApiEngine as Engine } from '../../src/engine/client.js';

export const TEST_IMAGE = 'aca-test/busybox:latest';
/** Every session a test creates carries this label; teardown removes by it. */
export const TEST_LABEL = 'acatest';

let engine: Promise<Engine> | undefined;

export async function testEngine(): Promise<Engine> {
  engine ??= (async () => {
    const { connect } = await import('../../dist/src/engine/connect.js');
    const { parseEngineChoice } = await import('../../dist/src/engine/endpoint.js');
    return (await connect({ engine: parseEngineChoice(process.env.ACA_ENGINE), env: process.env })) as unknown as Engine;
  })();
  return engine;
}

/**
 * This run of the suite: every test's label value starts with it, so the global teardown removes only what this
 * run made, never the sessions of another suite running on the same engine (another checkout, a developer).
 */
export function suiteId(): string {
  return (process.env.ACA_TEST_SUITE ??= `s${process.pid}`);
}

/** Remove every container a test labelled `value` (or, without one, with any value of this suite): never anything else. */
export async function removeLabelled(value?: string): Promise<void> {
  const e = await testEngine();
  const filter = value ? `${TEST_LABEL}=${value}` : TEST_LABEL;
  const ours = (labels: Record<string, string> | null | undefined) => value !== undefined || (labels?.[TEST_LABEL] ?? '').startsWith(suiteId());
  const { removeSessionVolumes } = await import('../../dist/src/sessions/storage.js');
  for (const c of (await e.listContainers([filter], true)).filter((c) => ours(c.Labels))) {
    await e.removeContainer(c.Id, { force: true });
    // A detached session's own volumes (its home, a workspace copy) go with it, as with aca rm.
    const session = c.Labels?.['aca.session'];
    if (session && c.Labels?.['aca.managed'] === 'true') await removeSessionVolumes(e as never, session);
  }
  // Session networks carry the session's labels; releasing one also detaches (and, if unused, removes) the egress proxy.
  const { releaseSessionNetwork } = await import('../../dist/src/sessions/network.js');
  const networks = (await e.http.json('GET', '/networks', { query: { filters: JSON.stringify({ label: [filter, 'aca.managed=true'] }) } })) as Array<{ Labels: Record<string, string> | null }>;
  for (const n of networks.filter((n) => ours(n.Labels))) {
    const session = n.Labels?.['aca.session'];
    if (session) await releaseSessionNetwork(e as never, session);
  }
  // A session's volumes carry its labels too: any left behind (a runtime that released them late) go as well.
  for (const v of await e.volumes.list([filter, 'aca.managed=true'])) {
    if (ours(v.Labels)) await e.volumes.remove(v.Name).catch(() => false);
  }
}

export async function inspectSession(name: string) {
  const e = await testEngine();
  return e.inspectContainer(`aca-${name}`);
}

export async function sessionExists(name: string): Promise<boolean> {
  const e = await testEngine();
  const found = await e.listContainers([`aca.session=${name}`], true);
  return found.length > 0;
}
