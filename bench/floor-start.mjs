#!/usr/bin/env node
// The least any Node program can do for `aca run -d --name NAME --image IMAGE`: the engine calls aca makes for a
// detached session (the name is free, the image and aca-isolated network are there, its home volume is made and
// given to the session user through a helper container that is created and removed, never started; then the
// session's container with aca's profile is created and started), over raw unix-socket connections
// (raw-engine.mjs), with nothing else: no configuration, no disk guard. bench/scale.mjs starts N of them at once.
// Usage: node bench/floor-start.mjs IMAGE WORKSPACE LABEL=VALUE NAME   (Docker, with the aca-isolated network present)
import { call } from './raw-engine.mjs';
import { profileHostConfig } from './floor-profile.mjs';

const [image, workspace, label, name] = process.argv.slice(2);
const [labelKey, labelValue] = label.split('=');
const labels = { 'aca.managed': 'true', 'aca.session': name, [labelKey]: labelValue };
const home = `aca-${name}-home`;

/** A tar holding one directory entry, owned by the session user (what aca extracts over the volume's mount point). */
function directoryTar(entry, uid, gid, mode) {
  const header = Buffer.alloc(512);
  const field = (offset, length, value) => header.write(value, offset, length, 'latin1');
  const octal = (offset, length, n) => field(offset, length, `${n.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, `${entry}/`);
  octal(100, 8, mode);
  octal(108, 8, uid);
  octal(116, 8, gid);
  octal(124, 12, 0);
  octal(136, 12, Math.floor(Date.now() / 1000));
  field(156, 1, '5');
  field(257, 8, 'ustar\x0000');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return Buffer.concat([header, Buffer.alloc(1024)]);
}

const ok = (text) => {
  const parsed = text ? JSON.parse(text) : {};
  if (parsed.message) throw new Error(parsed.message);
  return parsed;
};
// The name, the image and the network are looked up together, as aca does (src/sessions/run.ts lookAhead).
const [free, found, network] = await Promise.all([
  call('GET', `/containers/aca-${name}/json`), call('GET', `/images/${encodeURIComponent(image)}/json`), call('GET', '/networks/aca-isolated'),
]);
if (JSON.parse(free).Id) throw new Error(`aca-${name} exists`);
ok(found);
ok(network);
ok(await call('POST', '/volumes/create', { Name: home, Labels: { ...labels, 'aca.volume': 'home' } }));
const helper = ok(await call('POST', `/containers/create?name=aca-${name}-init`, {
  Image: image, Cmd: ['true'], User: '0:0', Labels: { ...labels, 'aca.helper': 'storage' },
  HostConfig: { Binds: [`${home}:/home/aca`], NetworkMode: 'none' },
})).Id;
await call('PUT', `/containers/${helper}/archive?path=${encodeURIComponent('/home')}`, directoryTar('aca', 1000, 1000, 0o700));
// Removed while the session is created, as aca does (src/sessions/storage.ts).
const helperRemoved = call('DELETE', `/containers/${helper}?force=1`);
const created = ok(await call('POST', `/containers/create?name=aca-${name}`, {
  Image: image,
  Cmd: ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'],
  User: '1000:1000',
  WorkingDir: '/workspace',
  Env: ['HOME=/home/aca'],
  Labels: labels,
  HostConfig: profileHostConfig(workspace, { home }),
}));
await helperRemoved;
await call('POST', `/containers/${created.Id}/start`);
