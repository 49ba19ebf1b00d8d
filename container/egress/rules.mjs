// aca egress proxy: the pure rules (allow-list matching, address vetting).
// Plain JavaScript so the proxy runs on any Node >= 18 without a build step;
// aca's unit tests import this file directly.
import { isIP } from 'node:net';

/** "example.com", "*.example.com", either with ":PORT". Lower-cased; returns undefined when malformed. */
export function parseAllowEntry(entry) {
  const text = String(entry).trim().toLowerCase();
  const match = /^(\*\.)?([a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (isIP(match[2])) return undefined;
  return { host: match[2], wildcard: Boolean(match[1]), port };
}

export const DEFAULT_PORTS = [80, 443];

/** The allow-list entry that admits host:port, if any. "*.example.com" admits subdomains only. */
export function matchAllow(entries, host, port) {
  const name = host.toLowerCase().replace(/\.$/, '');
  for (const entry of entries) {
    const nameOk = entry.wildcard ? name.endsWith(`.${entry.host}`) : name === entry.host;
    const portOk = entry.port === undefined ? DEFAULT_PORTS.includes(port) : port === entry.port;
    if (nameOk && portOk) return entry;
  }
  return undefined;
}

function ipv4ToInt(ip) {
  return ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
}

const V4_BLOCKED = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['100.100.100.200', 32, 'metadata'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local/metadata'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/** Why an address must not be dialled unless its name was allowed explicitly; undefined when public. */
export function blockedRange(address) {
  let ip = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) ip = mapped[1];
  if (isIP(ip) === 4) {
    const n = ipv4ToInt(ip);
    for (const [base, bits, reason] of V4_BLOCKED) {
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if ((n & mask) === (ipv4ToInt(base) & mask)) return reason;
    }
    return undefined;
  }
  if (isIP(ip) === 6) {
    if (ip === '::1') return 'loopback';
    if (ip === '::') return 'unspecified';
    if (ip === 'fd00:ec2::254') return 'metadata';
    if (/^fe[89ab]/.test(ip)) return 'link-local';
    if (/^f[cd]/.test(ip)) return 'private (unique local)';
    if (/^ff/.test(ip)) return 'multicast';
    return undefined;
  }
  return 'not an address';
}

/**
 * Decide on a request before any DNS: the host must be a name on the
 * allow-list (never an IP literal), on an allowed port.
 */
export function decideName(entries, host, port) {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return { allow: false, reason: 'IP literals are refused; use a host name on the allow-list' };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { allow: false, reason: `invalid port ${port}` };
  const entry = matchAllow(entries, bare, port);
  if (!entry) {
    const other = matchAllow(entries.map((e) => ({ ...e, port: undefined })), bare, 443) || matchAllow(entries.map((e) => ({ ...e, port: undefined })), bare, 80);
    return { allow: false, reason: other ? `port ${port} is not allowed for ${bare} (allow it with ${bare}:${port})` : `${bare} is not on the allow-list` };
  }
  return { allow: true, explicit: !entry.wildcard, entry };
}

/**
 * Decide on the resolved addresses: the first acceptable one is dialled (so
 * a second lookup cannot switch it). Private, loopback, link-local and
 * metadata addresses pass only for an explicitly named host.
 */
export function pickAddress(addresses, explicit) {
  if (addresses.length === 0) return { reason: 'the name does not resolve' };
  for (const address of addresses) {
    const blocked = blockedRange(address);
    if (blocked && !explicit) return { reason: `resolves to ${address} (${blocked}); only an explicitly named host may reach it` };
  }
  const v4 = addresses.find((a) => isIP(a) === 4);
  return { address: v4 ?? addresses[0] };
}
