/**
 * The model service stand-ins, each a container of aca/base:full running a scripted server from test/fixtures/standin/
 * on an egress network the test makes: a session reaches one only as an allowed host, through aca's egress proxy.
 */
import { fileURLToPath } from 'node:url';
import { DETACHED_STDIO } from '../../src/engine/types.js';
import { testEngine, TEST_LABEL } from './engine.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/standin/', import.meta.url));
export const STANDIN_PORT = 8080;

export interface Standins {
  network: string;
  /** Start a stand-in named `name` (its host name on the network) running `script`. */
  start(name: string, script: string, image: string): Promise<void>;
  /** The JSON lines a stand-in logged. */
  requests(name: string): Promise<Array<Record<string, unknown>>>;
  remove(): Promise<void>;
}

export async function standins(runId: string): Promise<Standins> {
  const engine = await testEngine();
  const network = `acatest-egress-${runId}`;
  const labels = { [TEST_LABEL]: runId };
  await engine.http.json('POST', '/networks/create', { body: { Name: network, Driver: 'bridge', Internal: false, Labels: labels, CheckDuplicate: true } });
  const containers: string[] = [];
  return {
    network,
    async start(name, script, image) {
      const id = await engine.createContainer(name, {
        Image: image,
        Entrypoint: ['node', `/standin/${script}`],
        Cmd: [],
        Env: [`PORT=${STANDIN_PORT}`],
        Labels: labels,
        User: '65534:65534',
        WorkingDir: '/',
        ...DETACHED_STDIO,
        HostConfig: { Binds: [`${FIXTURES}:/standin:ro`], NetworkMode: network, Init: true, ReadonlyRootfs: true, CapDrop: ['ALL'] },
      } as never);
      containers.push(id);
      await engine.startContainer(id);
      // Up when it says so.
      for (let i = 0; i < 100; i++) {
        if ((await this.requests(name)).some((line) => line.listening)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`stand-in ${name} did not start`);
    },
    async requests(name) {
      const res = await engine.logs(name, { follow: false });
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      // Multiplexed frames (no TTY): keep the payloads.
      const parts: Buffer[] = [];
      for (let at = 0; at + 8 <= raw.length; ) {
        const size = raw.readUInt32BE(at + 4);
        parts.push(raw.subarray(at + 8, at + 8 + size));
        at += 8 + size;
      }
      return Buffer.concat(parts).toString('utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async remove() {
      for (const id of containers) await engine.removeContainer(id, { force: true }).catch(() => {});
      await engine.http.json('DELETE', `/networks/${network}`).catch(() => {});
    },
  };
}
