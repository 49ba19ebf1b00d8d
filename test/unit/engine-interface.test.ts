import { describe, expect, it } from 'vitest';
import { engineFor } from '../../src/engine/engine-for.js';
import { EngineHttp, queryString } from '../../src/engine/http.js';
import { parseEngineUrl } from '../../src/engine/endpoint.js';
import { FrameCollector } from '../../src/engine/demux.js';
import { readJsonLines } from '../../src/engine/lines.js';
import type { EngineKind } from '../../src/engine/endpoint.js';
import { answer, frame, startFakeEngine } from '../helpers/fake-engine.js';
import { withRuntime } from '../../src/engine/runtimes.js';

const engine = (kind: EngineKind, url: string) => engineFor(new EngineHttp(parseEngineUrl(url)), { kind, url, source: 'test', apiVersion: '' });

describe('the Engine interface', () => {
  it('says what the engine does differently as capabilities, not as its kind', () => {
    const docker = engine('docker', 'unix:///var/run/docker.sock');
    const podman = engine('podman', 'unix:///run/podman/podman.sock');
    const remote = engine('docker', 'tcp://h:2375');
    expect(docker.capabilities).toEqual({ perSessionNetwork: false, healthChecksRunByEngine: true, hostPathsVisible: true, mayMapSessionUser: false, runtimeChoiceHonoured: true });
    expect(podman.capabilities).toEqual({ perSessionNetwork: true, healthChecksRunByEngine: false, hostPathsVisible: true, mayMapSessionUser: true, runtimeChoiceHonoured: false });
    expect(remote.capabilities.hostPathsVisible).toBe(false);
    for (const e of [docker, podman, remote]) e.close();
  });

  it('describes what a person types for each engine: its prune command, and how a runtime is registered with it', async () => {
    const docker = engine('docker', 'unix:///var/run/docker.sock');
    const podman = engine('podman', 'unix:///run/podman/podman.sock');
    const runtime = { id: 'gvisor', name: 'runsc', path: '/usr/bin/runsc', args: ['--platform=ptrace'] };
    expect([docker.pruneCommand, podman.pruneCommand]).toEqual(['docker system prune', 'podman system prune']);
    // Docker takes the arguments in daemon.json; Podman's containers.conf cannot, so a wrapper passes them.
    expect((await docker.runtimeRegistration()).steps(runtime)[0]).toBe('add to /etc/docker/daemon.json: {"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace"]}}}');
    const podmanSteps = (await podman.runtimeRegistration()).steps(runtime);
    expect(podmanSteps[0]).toContain('exec /usr/bin/runsc --platform=ptrace "$@"');
    expect(podmanSteps[1]).toBe(`printf '[engine.runtimes]\\nrunsc = ["/usr/local/libexec/aca/runsc"]\\n' > /etc/containers/containers.conf.d/50-aca-gvisor.conf`);
    for (const e of [docker, podman]) e.close();
  });

  it('registers a runtime in daemon.json keeping every other setting, and refuses a file that is not an object', () => {
    const runtime = { id: 'gvisor', name: 'runsc', path: '/usr/bin/runsc', args: ['--network=host'] };
    const next = JSON.parse(withRuntime('{"log-level": "warn", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}', runtime));
    expect(next).toEqual({ 'log-level': 'warn', runtimes: { crun: { path: '/usr/bin/crun' }, runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--network=host'] } } });
    expect(JSON.parse(withRuntime(undefined, runtime))).toEqual({ runtimes: { runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--network=host'] } } });
    expect(() => withRuntime('[1]', runtime)).toThrow('not a JSON object');
  });

  it('writes every query one way: undefined left out, a list repeats its key', () => {
    expect(queryString({ t: ['a:1', 'b c'], rm: 'true', target: undefined, n: 2, force: false })).toBe('t=a%3A1&t=b%20c&rm=true&n=2&force=false');
  });

  it('collects a multiplexed stream whole, whatever its chunks', () => {
    const raw = Buffer.concat([frame(1, 'out é'), frame(2, 'err'), frame(1, '!')]);
    const collector = new FrameCollector();
    for (let at = 0; at < raw.length; at += 3) collector.push(raw.subarray(at, at + 3));
    const { output, stdout, stderr } = collector.result();
    expect(output).toBe('out éerr!');
    expect(stdout.toString()).toBe('out é!');
    expect(stderr.toString()).toBe('err');
  });

  it('reads JSON lines split anywhere, and passes a line that is not JSON on as text', async () => {
    const text = Buffer.from('{"status":"é"}\nnot json\n\n{"id":"x"}');
    const chunks = [text.subarray(0, 12), text.subarray(12, 20), text.subarray(20)];
    const seen: unknown[] = [];
    await readJsonLines((async function* () { yield* chunks; })(), (m) => seen.push(m));
    expect(seen).toEqual([{ status: 'é' }, { stream: 'not json\n' }, { id: 'x' }]);
  });
});

describe('removeContainer', () => {
  it('asks again when Podman cannot kill a container that has just stopped by itself, and gives up after three', async () => {
    const fake = await startFakeEngine();
    const podman = engine('podman', `unix://${fake.socket}`);
    try {
      const improper = answer('500 Internal Server Error', JSON.stringify({ message: 'cannot remove container c1 as it could not be stopped: sending SIGKILL to container c1: container state improper: stopped' }), { 'Content-Type': 'application/json' });
      let deletes = 0;
      fake.handle((request) => {
        if (request.method === 'DELETE') deletes += 1;
        request.socket.end(request.method === 'DELETE' && deletes === 1 ? improper : 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
      });
      await podman.removeContainer('c1', { force: true });
      expect(deletes).toBe(2);

      deletes = 0;
      fake.handle((request) => {
        if (request.method === 'DELETE') deletes += 1;
        request.socket.end(improper);
      });
      await expect(podman.removeContainer('c1', { force: true })).rejects.toThrow(/state improper/);
      expect(deletes).toBe(3);
    } finally {
      podman.close();
      await fake.close();
    }
  });
});
