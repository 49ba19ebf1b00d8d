import { describe, expect, it } from 'vitest';
import { engineCandidates, kindFromPingHeaders, parseEngineChoice, parseEngineUrl } from '../../src/engine/endpoint.js';
import { FrameDemuxer } from '../../src/engine/demux.js';
import { splitReference } from '../../src/engine/images.js';
import { plannedCandidates } from '../../src/engine/connect.js';
import { frame } from '../helpers/fake-engine.js';

describe('engine candidates', () => {
  it('tries Docker, then rootless and rootful Podman, by default', () => {
    const urls = engineCandidates({ engine: 'auto', env: { XDG_RUNTIME_DIR: '/run/user/1000' } }).map((c) => c.endpoint.url);
    expect(urls).toEqual(['unix:///var/run/docker.sock', 'unix:///run/user/1000/podman/podman.sock', 'unix:///run/podman/podman.sock']);
  });
  it('restricts the choice with --engine', () => {
    expect(engineCandidates({ engine: 'podman', env: {} }).map((c) => c.endpoint.url)).toEqual(['unix:///run/podman/podman.sock']);
    expect(engineCandidates({ engine: 'docker', env: { XDG_RUNTIME_DIR: '/x' } }).map((c) => c.endpoint.url)).toEqual(['unix:///var/run/docker.sock']);
  });
  it('uses only an explicit address: --host over DOCKER_HOST', () => {
    expect(engineCandidates({ host: 'tcp://h:1', engine: 'auto', env: { DOCKER_HOST: 'unix:///x' } })).toEqual([
      { endpoint: { url: 'tcp://h:1', protocol: 'http', hostname: 'h', port: 1 }, source: '--host' },
    ]);
    expect(engineCandidates({ engine: 'auto', env: { DOCKER_HOST: 'unix:///x.sock' } })[0]).toMatchObject({ source: 'DOCKER_HOST', endpoint: { socketPath: '/x.sock' } });
  });
  it('puts the configuration\'s host below --host and above DOCKER_HOST', () => {
    const configHost = { url: 'unix:///cfg.sock', source: 'config /u/config.json' };
    expect(engineCandidates({ host: 'tcp://h:1', configHost, engine: 'auto', env: {} }).map((c) => c.source)).toEqual(['--host']);
    expect(engineCandidates({ configHost, engine: 'auto', env: { DOCKER_HOST: 'unix:///x' } })).toEqual([
      { endpoint: { url: 'unix:///cfg.sock', protocol: 'unix', socketPath: '/cfg.sock' }, source: 'config /u/config.json' },
    ]);
    // DOCKER_CONTEXT is environment too: the configured host wins without the context being read.
    const planned = plannedCandidates({ configHost, engine: 'auto', env: { DOCKER_CONTEXT: 'no-such-context', DOCKER_CONFIG: '/nonexistent' } });
    expect(planned.candidates.map((c) => c.source)).toEqual(['config /u/config.json']);
  });
  it('parses engine addresses', () => {
    expect(parseEngineUrl('tcp://h', true)).toMatchObject({ protocol: 'https', port: 2376 });
    expect(parseEngineUrl('tcp://h')).toMatchObject({ protocol: 'http', port: 2375 });
    expect(parseEngineUrl('ssh://me@box:2222')).toMatchObject({ protocol: 'ssh', user: 'me', hostname: 'box', port: 2222 });
    expect(parseEngineUrl('/var/run/docker.sock')).toMatchObject({ protocol: 'unix', socketPath: '/var/run/docker.sock' });
    expect(() => parseEngineUrl('ftp://x')).toThrow(/unsupported/);
    expect(() => parseEngineUrl('::::')).toThrow(/invalid engine address/);
    expect(() => parseEngineChoice('lxc')).toThrow(/unknown engine "lxc"/);
  });
  it('tells Podman from Docker by its ping headers', () => {
    expect(kindFromPingHeaders({ 'api-version': '1.41', server: 'Docker/20.10.24 (linux)' })).toBe('docker');
    expect(kindFromPingHeaders({ 'api-version': '1.41', 'libpod-api-version': '4.3.1', server: 'Libpod/4.3.1 (linux)' })).toBe('podman');
  });
  it('splits image references', () => {
    expect(splitReference('busybox')).toEqual(['busybox', 'latest']);
    expect(splitReference('reg:5000/a/b:1.2')).toEqual(['reg:5000/a/b', '1.2']);
    expect(splitReference('reg:5000/a/b')).toEqual(['reg:5000/a/b', 'latest']);
  });
});

describe('FrameDemuxer', () => {
  it('splits frames to their streams, whatever the chunking', () => {
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world'), frame(1, '')]);
    for (let size = 1; size <= all.length; size++) {
      const out: Record<number, string> = { 1: '', 2: '' };
      const demux = new FrameDemuxer((stream, payload) => { out[stream] += payload.toString(); return true; });
      for (let at = 0; at < all.length; at += size) demux.push(all.subarray(at, at + size));
      expect(out).toEqual({ 1: 'hello world', 2: 'oops' });
    }
  });
  it('reports backpressure from a sink', () => {
    const demux = new FrameDemuxer(() => false);
    expect(demux.push(frame(1, 'x'))).toBe(false);
  });
});
