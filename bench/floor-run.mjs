#!/usr/bin/env node
// The least any Node program can do for `aca run --image IMAGE -- true`: create the container with aca's hardened
// profile on the aca-isolated network, attach to its output, start it, wait for it, remove it: the engine calls aca
// makes for a foreground run, over raw unix-socket connections (raw-engine.mjs), with nothing else. bench/run.mjs
// times it beside aca and docker: what it costs over `docker run --rm` is the engine's work plus Node's start-up,
// which no Node client can avoid.
// Usage: node bench/floor-run.mjs IMAGE WORKSPACE LABEL=VALUE   (Docker, with the aca-isolated network present)
import { call } from './raw-engine.mjs';
import { profileHostConfig } from './floor-profile.mjs';

const [image, workspace, label] = process.argv.slice(2);
const [labelKey, labelValue] = label.split('=');
const created = JSON.parse(await call('POST', '/containers/create', {
  Image: image,
  Cmd: ['true'],
  WorkingDir: '/workspace',
  User: '1000:1000',
  Labels: { [labelKey]: labelValue },
  AttachStdout: true,
  AttachStderr: true,
  HostConfig: profileHostConfig(workspace),
}));
const output = call('POST', `/containers/${created.Id}/attach?stream=1&stdout=1&stderr=1`, undefined, 'Connection: Upgrade\r\nUpgrade: tcp\r\n');
// Asked before the start, as the docker CLI does, so the exit cannot be missed.
const exited = call('POST', `/containers/${created.Id}/wait?condition=next-exit`);
await call('POST', `/containers/${created.Id}/start`);
const { StatusCode } = JSON.parse(await exited);
await output;
await call('DELETE', `/containers/${created.Id}?force=1`);
process.exitCode = StatusCode;
