import { describe, expect, it } from 'vitest';
import {
  parseBytes, parseCpus, parseDuration, parseEnvEntry, parseEnvFile, parseLabel, parseMemory, parsePort, parseVolume, validateSessionName,
} from '../../src/parse.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([['30s', 30_000], ['5m', 300_000], ['1h30m', 5_400_000], ['250ms', 250], ['2', 2000], ['1.5s', 1500], ['1d', 86_400_000]])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', 'soon', '5x', '1h 30m', '-1s', 's'])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(/--timeout: invalid duration/);
  });
});

describe('sizes and CPUs', () => {
  it('parses docker-style sizes in binary units', () => {
    expect(parseBytes('512m')).toBe(512 * 1024 ** 2);
    expect(parseBytes('2g')).toBe(2 * 1024 ** 3);
    expect(parseBytes('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes('64MiB')).toBe(64 * 1024 ** 2);
  });
  it('rejects nonsense and tiny memory limits', () => {
    expect(() => parseBytes('lots', '--memory')).toThrow(UsageError);
    expect(() => parseMemory('1m')).toThrow(/below the 6m minimum/);
  });
  it('turns CPUs into NanoCPUs', () => {
    expect(parseCpus('1.5')).toBe(1_500_000_000);
    expect(() => parseCpus('0')).toThrow(/--cpus/);
    expect(() => parseCpus('-1')).toThrow(/--cpus/);
    expect(() => parseCpus('two')).toThrow(/--cpus/);
  });
});

describe('environment', () => {
  it('takes K=V literally and K from the host, skipping unset ones', () => {
    expect(parseEnvEntry('A=b=c', {})).toEqual(['A', 'b=c']);
    expect(parseEnvEntry('A=', {})).toEqual(['A', '']);
    expect(parseEnvEntry('HOSTVAR', { HOSTVAR: 'x' })).toEqual(['HOSTVAR', 'x']);
    expect(parseEnvEntry('MISSING', {})).toBeUndefined();
    expect(() => parseEnvEntry('1BAD=x', {})).toThrow(/invalid variable name "1BAD"/);
  });
  it('reads env files with comments, blanks and export', () => {
    const text = '# c\nA=1\n\n  export B=two words\nC\nD=\n';
    expect(parseEnvFile(text, { C: 'from host' }, 'f.env')).toEqual([['A', '1'], ['B', 'two words'], ['C', 'from host'], ['D', '']]);
    expect(() => parseEnvFile('ok=1\nbad key=2', {}, 'f.env')).toThrow(/f\.env:2/);
  });
});

describe('labels, volumes, ports, names', () => {
  it('reserves aca.* labels', () => {
    expect(parseLabel('team=red')).toEqual(['team', 'red']);
    expect(parseLabel('flag')).toEqual(['flag', '']);
    expect(() => parseLabel('aca.managed=false')).toThrow(/reserved/);
  });
  it('parses volumes', () => {
    expect(parseVolume('/a:/b')).toEqual({ source: '/a', target: '/b', readOnly: false });
    expect(parseVolume('vol:/b:ro')).toEqual({ source: 'vol', target: '/b', readOnly: true });
    expect(() => parseVolume('/a')).toThrow(/invalid mount/);
    expect(() => parseVolume('/a:/b:rx')).toThrow(/mode "rx"/);
    expect(() => parseVolume('/a:rel')).toThrow(/absolute/);
  });
  it('publishes on 127.0.0.1 unless an address is given', () => {
    expect(parsePort('8080:80')).toEqual({ hostIp: '127.0.0.1', hostPort: '8080', containerPort: 80, protocol: 'tcp' });
    expect(parsePort('80')).toEqual({ hostIp: '127.0.0.1', hostPort: '', containerPort: 80, protocol: 'tcp' });
    expect(parsePort('0.0.0.0:53:53/udp')).toEqual({ hostIp: '0.0.0.0', hostPort: '53', containerPort: 53, protocol: 'udp' });
    expect(parsePort('[::1]:8080:80')).toEqual({ hostIp: '::1', hostPort: '8080', containerPort: 80, protocol: 'tcp' });
    expect(() => parsePort('99999')).toThrow(/invalid port/);
    expect(() => parsePort('80/sctp')).toThrow(/protocol/);
  });
  it('validates session names', () => {
    expect(validateSessionName('my-agent.1')).toBe('my-agent.1');
    expect(() => validateSessionName('-bad')).toThrow(UsageError);
    expect(() => validateSessionName('has space')).toThrow(UsageError);
  });
});
