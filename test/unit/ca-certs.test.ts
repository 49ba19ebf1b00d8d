import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CA_BUNDLE_BYTES, parseCaBundle, readCaBundle } from '../../src/security/ca-certs.js';

const SYSTEM_BUNDLE = readFileSync('/etc/ssl/certs/ca-certificates.crt');
const ONE_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(SYSTEM_BUNDLE.toString('utf8'))![0];

describe('CA bundles', () => {
  it('keeps only the certificates of a bundle, dropping the text between them', () => {
    const out = parseCaBundle(Buffer.from(`Some Root CA\n============\n${ONE_CERT}\n# note\n${ONE_CERT}\n`), '/b.pem', '--ca-certs');
    expect(out).toBe(`${ONE_CERT}\n${ONE_CERT}\n`);
    expect(parseCaBundle(SYSTEM_BUNDLE, '/b', '--ca-certs').length).toBeGreaterThan(1000);
  });
  it('refuses keys, non-PEM text, binary data and broken certificates, naming the file', () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseCaBundle(Buffer.from(`${ONE_CERT}\n${key}`), '/k', 'caCerts')).toThrow('caCerts: refused: /k is not a PEM certificate bundle (it holds a PRIVATE KEY block)');
    expect(() => parseCaBundle(Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n'), '/id', '--ca-certs')).toThrow(/OPENSSH PRIVATE KEY block/);
    expect(() => parseCaBundle(Buffer.from('root:x:0:0:root:/root:/bin/sh\n'), '/etc/passwd', '--ca-certs')).toThrow(/no -----BEGIN CERTIFICATE----- block/);
    expect(() => parseCaBundle(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]), '/bin/x', '--ca-certs')).toThrow(/it is binary/);
    expect(() => parseCaBundle(Buffer.from('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'), '/f', '--ca-certs')).toThrow(/certificate 1 cannot be parsed/);
    expect(() => parseCaBundle(Buffer.from(`${ONE_CERT}\n-----BEGIN CERTIFICATE-----\nabc\n`), '/f', '--ca-certs')).toThrow(/not closed/);
  });
  it('checks a bundle whose content changed since the last read again, in the same process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-ca-unit-'));
    try {
      const path = join(dir, 'bundle.pem');
      writeFileSync(path, `${ONE_CERT}\n${ONE_CERT}\n`);
      expect(readCaBundle(path, '--ca-certs')).toBe(`${ONE_CERT}\n${ONE_CERT}\n`);
      expect(readCaBundle(path, '--ca-certs')).toBe(`${ONE_CERT}\n${ONE_CERT}\n`);
      const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileSync(path, `${ONE_CERT}\n${key}`);
      expect(() => readCaBundle(path, '--ca-certs')).toThrow(/it holds a PRIVATE KEY block/);
      writeFileSync(path, ONE_CERT);
      expect(readCaBundle(path, '--ca-certs')).toBe(`${ONE_CERT}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reads only regular files of bounded size, after resolving symlinks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-ca-unit-'));
    try {
      writeFileSync(join(dir, 'ok.pem'), ONE_CERT);
      symlinkSync(join(dir, 'ok.pem'), join(dir, 'link.pem'));
      expect(readCaBundle(join(dir, 'link.pem'), '--ca-certs')).toBe(`${ONE_CERT}\n`);
      expect(() => readCaBundle(join(dir, 'missing.pem'), '--ca-certs')).toThrow(`--ca-certs: no such file: ${join(dir, 'missing.pem')}`);
      expect(() => readCaBundle(dir, '--ca-certs')).toThrow(/is not a regular file/);
      writeFileSync(join(dir, 'big.pem'), Buffer.alloc(MAX_CA_BUNDLE_BYTES + 1, 0x41));
      expect(() => readCaBundle(join(dir, 'big.pem'), '--ca-certs')).toThrow(/larger than 4 MiB/);
      const server = createServer();
      await new Promise<void>((r) => server.listen(join(dir, 'engine.sock'), r));
      symlinkSync(join(dir, 'engine.sock'), join(dir, 'sock-link.pem'));
      try {
        expect(() => readCaBundle(join(dir, 'sock-link.pem'), 'caCerts')).toThrow(/^caCerts: refused: .*sock-link.pem \(.*engine.sock\) is not a regular file/);
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
