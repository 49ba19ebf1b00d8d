import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configFilesIn } from '../../src/config/candidates.js';
import { validateConfig } from '../../src/config/schema.js';
import { colorEnabled, table } from '../../src/output.js';

describe('validateConfig', () => {
  it('accepts every key in its documented shape', () => {
    expect(validateConfig({ image: 'x', memory: '1g', cpus: 1.5, pids: 10, env: { A: 1 }, volumes: ['/a:/b'], ports: ['80'], labels: { a: 'b' }, timeout: '5m', engine: 'podman', host: 'unix:///x' }, 'f'))
      .toEqual({ image: 'x', memory: '1g', cpus: '1.5', pids: 10, env: ['A=1'], volumes: ['/a:/b'], ports: ['80'], labels: { a: 'b' }, timeout: '5m', engine: 'podman', host: 'unix:///x' });
  });
  it('names the file and key at fault', () => {
    expect(() => validateConfig({ memory: 'lots' }, '/p/.acarc')).toThrow('/p/.acarc: key "memory": invalid size "lots"');
    expect(() => validateConfig({ nope: 1 }, '/p/.acarc')).toThrow('/p/.acarc: unknown key "nope"');
    expect(() => validateConfig({ volumes: ['/ok:/ok', 'bad'] }, 'f')).toThrow('f: key "volumes"[1]: invalid mount');
    expect(() => validateConfig({ engine: 'lxc' }, 'f')).toThrow('f: key "engine": expected auto, docker or podman');
    expect(() => validateConfig([1], 'f')).toThrow('f: expected an object');
    expect(() => validateConfig({ labels: { 'aca.x': 'y' } }, 'f')).toThrow(/reserved/);
  });
});

describe('output', () => {
  it('colours only a terminal, never with NO_COLOR or --no-color', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, {}, true)).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
  it('aligns tables', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A     BB\nxxx   y');
  });
});

describe('configFilesIn', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'aca-config-'));

  it('puts every place cosmiconfig searches for "aca" in one of two lists: data to read, or code to ignore', async () => {
    const { getDefaultSearchPlaces } = await import('cosmiconfig');
    for (const place of getDefaultSearchPlaces('aca')) {
      const root = dir();
      mkdirSync(dirname(join(root, place)), { recursive: true });
      writeFileSync(join(root, place), place === 'package.json' ? '{"aca":{}}' : '');
      const found = configFilesIn(root);
      const executable = /\.(?:[cm]?js|[cm]?ts)$/.test(place);
      expect(found.data, place).toEqual(executable ? [] : [join(root, place)]);
      expect(found.ignored, place).toEqual(executable ? [join(root, place)] : []);
    }
  });

  it('finds nothing where there is nothing, and lists the data files in search order', () => {
    const root = dir();
    expect(configFilesIn(root)).toEqual({ data: [], ignored: [] });
    expect(configFilesIn(join(root, 'missing'))).toEqual({ data: [], ignored: [] });
    writeFileSync(join(root, '.acarc.yaml'), '');
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'README.acarc'), '');
    expect(configFilesIn(root).data).toEqual([join(root, 'package.json'), join(root, '.acarc.yaml')]);
  });
});
