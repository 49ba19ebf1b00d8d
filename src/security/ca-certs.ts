/**
 * The CA bundle a session (or an image build) should trust. aca reads it on
 * the host and hands on a copy of its certificates only: the session never
 * gets a bind mount of a host path, so `caCerts` cannot be used to reach the
 * engine socket, an ssh key or any other host file. Pure apart from reading
 * the file.
 */
import { X509Certificate } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync, constants } from 'node:fs';
import { UsageError } from '../errors.js';

/** Far above any real bundle (the Mozilla set is about 220 KiB). */
export const MAX_CA_BUNDLE_BYTES = 4 * 1024 * 1024;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const ANY_BEGIN = /-----BEGIN ([^-\r\n]*)-----/g;

/** Read at most `limit + 1` bytes of a regular file, after resolving symlinks; never blocks on a fifo or socket. */
function readRegularFile(path: string, what: string, limit: number): Buffer {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new UsageError(`${what}: no such file: ${path}`);
  }
  const notRegular = () => new UsageError(`${what}: refused: ${path}${real !== path ? ` (${real})` : ''} is not a regular file; give a PEM certificate bundle`);
  if (!statSync(real).isFile()) throw notRegular();
  let fd: number;
  try {
    // O_NONBLOCK: opening a fifo must not hang; the type is checked right after.
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    throw new UsageError(`${what}: cannot read ${path}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notRegular();
    if (stat.size > limit) throw new UsageError(`${what}: refused: ${path} is larger than ${limit / 1024 / 1024} MiB; a CA bundle is far smaller`);
    const buffer = Buffer.alloc(Math.min(stat.size, limit) + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > limit) throw new UsageError(`${what}: refused: ${path} is larger than ${limit / 1024 / 1024} MiB; a CA bundle is far smaller`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The certificates of a PEM bundle, re-emitted one after another: text
 * between blocks (names, comments) is dropped, so nothing but certificates
 * reaches the session. Anything that is not a bundle of certificates (a key,
 * a binary file, no certificate at all) is refused.
 */
export function parseCaBundle(data: Buffer, path: string, what: string): string {
  const refuse = (why: string) => new UsageError(`${what}: refused: ${path} is not a PEM certificate bundle (${why})`);
  if (data.includes(0)) throw refuse('it is binary');
  const text = data.toString('utf8');
  for (const match of text.matchAll(ANY_BEGIN)) {
    if (match[1] !== 'CERTIFICATE') throw refuse(`it holds a ${match[1] || 'non-certificate'} block`);
  }
  const certificates: string[] = [];
  for (const match of text.matchAll(BLOCK)) {
    try {
      new X509Certificate(match[0]);
    } catch {
      throw refuse(`certificate ${certificates.length + 1} cannot be parsed`);
    }
    certificates.push(match[0].replace(/\r\n/g, '\n'));
  }
  if (certificates.length === 0) throw refuse('it holds no -----BEGIN CERTIFICATE----- block');
  if (certificates.length !== [...text.matchAll(ANY_BEGIN)].length) throw refuse('a certificate block is not closed');
  return `${certificates.join('\n')}\n`;
}

/**
 * The last bundle checked in this process. A run reads the bundle twice (options, then delivery), and checking a
 * system bundle's 140-odd certificates takes about 150 ms: the second read is compared byte for byte with the
 * first and, when equal, not checked again. Nothing outlives the process.
 */
let lastChecked: { data: Buffer; bundle: string } | undefined;

/** Read and check a CA bundle on the host; `what` names where it came from (--ca-certs, caCerts, env NODE_EXTRA_CA_CERTS). */
export function readCaBundle(path: string, what: string): string {
  const data = readRegularFile(path, what, MAX_CA_BUNDLE_BYTES);
  if (lastChecked?.data.equals(data)) return lastChecked.bundle;
  const bundle = parseCaBundle(data, path, what);
  lastChecked = { data, bundle };
  return bundle;
}
