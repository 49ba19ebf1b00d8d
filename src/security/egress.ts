/** --allow-host values, checked with the same rules the egress proxy applies (container/egress/rules.mjs). */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/** "example.com", "*.example.com", with an optional ":PORT". Lower-cased. */
export function parseAllowHost(value: string, flag = '--allow-host'): string {
  const text = value.trim().toLowerCase();
  const match = /^(\*\.)?([a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[2] ?? text.replace(/^\[|\](?::\d+)?$/g, '');
  if (isIP(host) || isIP(text)) throw new UsageError(`${flag}: "${value}" is an IP address; allow host names (the proxy refuses IP literals)`);
  if (!match) throw new UsageError(`${flag}: invalid host "${value}" (use example.com, *.example.com or example.com:8443)`);
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`${flag}: invalid port in "${value}"`);
  return text;
}
