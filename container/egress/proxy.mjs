// aca egress proxy: the only way out of sessions on an internal network.
//
// One proxy serves many sessions. It is attached to each session's own
// internal network, so the address a connection arrives on (its local
// address) says which session it came from; aca writes that session's
// allow-list to CONFIG_DIR/<that address>.json. A connection on any other
// address (the egress network, say) has no allow-list and is refused.
//
// HTTP CONNECT (https) and plain HTTP (absolute-form requests) are served.
// Every decision is logged as one JSON line on stdout.
import { promises as dns } from 'node:dns';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { decideName, parseAllowEntry, pickAddress } from './rules.mjs';

const PORT = Number(process.env.ACA_EGRESS_PORT || 3128);
const CONFIG_DIR = process.env.ACA_EGRESS_CONFIG || '/run/aca-egress';

function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

function sessionFor(socket) {
  const local = (socket.localAddress || '').replace(/^::ffff:/, '');
  if (!/^[0-9a-f.:]+$/i.test(local)) return undefined;
  try {
    const config = JSON.parse(readFileSync(`${CONFIG_DIR}/${local}.json`, 'utf8'));
    return { session: String(config.session), entries: config.allow.map(parseAllowEntry).filter(Boolean) };
  } catch {
    return undefined;
  }
}

/** Vet host:port for the connection's session; resolves to { address } or { reason }. */
async function vet(socket, host, port) {
  const config = sessionFor(socket);
  if (!config) return { reason: 'no allow-list for this network', session: undefined };
  const byName = decideName(config.entries, host, port);
  if (!byName.allow) return { reason: byName.reason, session: config.session };
  let addresses;
  try {
    addresses = (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (error) {
    return { reason: `cannot resolve ${host}: ${error.code || error.message}`, session: config.session };
  }
  const picked = pickAddress(addresses, byName.explicit);
  return { ...picked, session: config.session };
}

function splitHostPort(authority, defaultPort) {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority || '');
  if (!match) return undefined;
  return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
}

const server = http.createServer(async (req, res) => {
  const client = req.socket.remoteAddress;
  let url;
  try {
    url = new URL(req.url);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:') {
    log({ client, method: req.method, target: req.url, decision: 'deny', reason: 'not a proxy request (absolute http:// URL expected)' });
    res.writeHead(400, { 'content-type': 'text/plain' }).end('aca egress: send proxy requests (absolute http:// URLs) or CONNECT\n');
    return;
  }
  const port = url.port ? Number(url.port) : 80;
  const verdict = await vet(req.socket, url.hostname, port);
  const fields = { session: verdict.session, client, method: req.method, host: url.hostname, port };
  if (!verdict.address) {
    log({ ...fields, decision: 'deny', reason: verdict.reason });
    res.writeHead(403, { 'content-type': 'text/plain' }).end(`aca egress: refused: ${verdict.reason}\n`);
    return;
  }
  log({ ...fields, decision: 'allow', address: verdict.address });
  const headers = { ...req.headers, host: url.host, connection: 'close' };
  for (const name of Object.keys(headers)) if (name.startsWith('proxy-')) delete headers[name];
  const upstream = http.request({ host: verdict.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false }, (up) => {
    res.writeHead(up.statusCode || 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (error) => {
    log({ ...fields, decision: 'error', reason: error.code || error.message });
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`aca egress: upstream failed: ${error.code || error.message}\n`);
  });
  req.pipe(upstream);
});

server.on('connect', async (req, socket, head) => {
  const client = socket.remoteAddress;
  socket.on('error', () => socket.destroy());
  const target = splitHostPort(req.url, 443);
  if (!target) {
    log({ client, method: 'CONNECT', target: req.url, decision: 'deny', reason: 'malformed CONNECT target' });
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return;
  }
  const verdict = await vet(socket, target.host, target.port);
  const fields = { session: verdict.session, client, method: 'CONNECT', host: target.host, port: target.port };
  if (!verdict.address) {
    log({ ...fields, decision: 'deny', reason: verdict.reason });
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\naca egress: refused: ${verdict.reason}\n`);
    return;
  }
  log({ ...fields, decision: 'allow', address: verdict.address });
  const upstream = net.connect(target.port, verdict.address, () => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head && head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (error) => {
    log({ ...fields, decision: 'error', reason: error.code || error.message });
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
});

server.on('clientError', (_error, socket) => socket.destroy());
server.listen(PORT, '0.0.0.0', () => {
  // aca waits for this file before it sends a session to the proxy.
  writeFileSync(`${CONFIG_DIR}/.listening`, '');
  log({ event: 'listening', port: PORT });
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
