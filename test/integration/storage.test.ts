import { describe, expect, it } from 'vitest';
import { TEST_IMAGE, testEngine } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

const volumesOf = async (session: string) => {
  return (await (await testEngine()).volumes.list(['aca.managed=true', `aca.session=${session}`])).map((v) => v.Name);
};

describe.skipIf(!hasEngine)('session storage', () => {
  const { aca, runId } = engineSuite();

  it('keeps the home volume across stop and start, owned by the session user, and removes it with the session', async () => {
    const name = `home-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--user', '2345:2345', '--image', TEST_IMAGE]));
    expect(await volumesOf(name)).toEqual([`aca-${name}-home`]);
    const wrote = await aca(['exec', name, '--', 'sh', '-c', 'stat -c "%u:%g %a" $HOME; echo kept > $HOME/note']);
    expect(wrote.stdout).toBe('2345:2345 700\n');
    expectOk(await aca(['stop', '-t', '1', name]));
    expectOk(await aca(['start', name]));
    expect((await aca(['exec', name, '--', 'cat', '/home/aca/note'])).stdout).toBe('kept\n');
    expectOk(await aca(['rm', '-f', name]));
    expect(await volumesOf(name)).toEqual([]);
  });

  it('gives a plain foreground run a home in memory and leaves no volume behind', async () => {
    const name = `fg-${runId}`;
    const result = await aca(['run', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', 'touch $HOME/x && grep " /home/aca " /proc/mounts | cut -d" " -f3']);
    expect(result.stdout).toBe('tmpfs\n');
    expect(await volumesOf(name)).toEqual([]);
  });

  it('shares a cache between sessions and keeps it after they are removed', async () => {
    const cache = `c${runId.replace(/[^a-z0-9]/g, '')}`;
    try {
      const first = await aca(['run', '--cache', `${cache}:/cache`, '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo from-first > /cache/file']);
      expect(first.exitCode, first.stderr).toBe(0);
      const second = await aca(['run', '--cache', `${cache}:/cache`, '--user', '1000:1000', '--image', TEST_IMAGE, '--', 'sh', '-c', 'cat /cache/file; touch /cache/mine && echo writable']);
      expect(second.stdout).toBe('from-first\nwritable\n');
      const volume = await (await testEngine()).volumes.inspect(`aca-cache-${cache}`);
      expect(volume?.Labels).toMatchObject({ 'aca.managed': 'true', 'aca.cache': cache, 'aca.volume': 'cache' });
    } finally {
      await (await testEngine()).volumes.remove(`aca-cache-${cache}`);
    }
  });

  it('maps known cache names to their usual paths, and refuses unknown ones', async () => {
    const unknown = await aca(['run', '--cache', 'nosuchtool', '--image', TEST_IMAGE, 'true']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown cache "nosuchtool"');
  });
});
