import { describe, expect, it } from 'vitest';
import { isolationFacts } from '../../src/engine/info.js';
import { checkGvisorPids, chooseIsolation, GVISOR_MIN_PIDS, parseIsolation } from '../../src/security/isolation.js';

const docker = (runtimes: Record<string, { path?: string }>) => isolationFacts('docker', { Runtimes: runtimes } as never, false);
const withGvisor = docker({ runc: { path: 'runc' }, runsc: { path: '/usr/bin/runsc' } });
const without = docker({ runc: { path: 'runc' } });

describe('isolation', () => {
  it('parses the three choices and names the flag otherwise', () => {
    expect(parseIsolation('gvisor')).toBe('gvisor');
    expect(() => parseIsolation('vm', 'ACA_ISOLATION')).toThrow('ACA_ISOLATION: expected container, gvisor or auto, got "vm"');
  });

  it('auto picks gVisor where Docker offers it, and the engine default elsewhere', () => {
    expect(chooseIsolation('auto', undefined, withGvisor)).toEqual({ isolation: 'gvisor', runtime: 'runsc' });
    expect(chooseIsolation('auto', undefined, without)).toEqual({ isolation: 'container', runtime: undefined });
    expect(chooseIsolation('container', undefined, withGvisor)).toEqual({ isolation: 'container', runtime: undefined });
  });

  it('auto never picks gVisor on Podman, which lists runsc whether or not it is set up', () => {
    const podman = isolationFacts('podman', { Runtimes: { runsc: { path: 'runsc' } } } as never, true);
    expect(chooseIsolation('auto', undefined, podman)).toEqual({ isolation: 'container', runtime: undefined });
    expect(chooseIsolation('gvisor', undefined, podman)).toEqual({ isolation: 'gvisor', runtime: 'runsc' });
  });

  it('refuses gvisor where the engine does not offer it, naming what it lists and where the steps are', () => {
    expect(() => chooseIsolation('gvisor', undefined, without)).toThrow('--isolation gvisor: gVisor (runsc) is not registered with this engine (it lists runc)');
  });

  it('keeps --runtime for other OCI runtimes and refuses contradictions', () => {
    expect(chooseIsolation('auto', 'kata', withGvisor)).toEqual({ isolation: 'container', runtime: 'kata' });
    expect(chooseIsolation('auto', 'runsc', withGvisor)).toEqual({ isolation: 'gvisor', runtime: 'runsc' });
    expect(() => chooseIsolation('gvisor', 'kata', withGvisor)).toThrow('--isolation gvisor contradicts --runtime kata');
    expect(() => chooseIsolation('container', 'runsc', withGvisor)).toThrow('--isolation container contradicts --runtime runsc');
  });

  it('refuses a pids limit gVisor\'s own threads would exhaust, saying what to do', () => {
    expect(() => checkGvisorPids(GVISOR_MIN_PIDS)).not.toThrow();
    expect(() => checkGvisorPids(77)).toThrow(/^--pids 77: too low under gVisor, whose own threads count against the limit .*use at least 128, or --isolation container$/);
  });
});
