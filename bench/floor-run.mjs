#!/usr/bin/env node
// The least any Node program can do for `aca run --image IMAGE -- true`: create the container with aca's hardened
// profile on the aca-isolated network, attach to its output, start it, wait for it, remove it: the engine calls aca
// makes for a foreground run, over raw unix-socket connections (raw-engine.mjs), with nothing else. bench/run.mjs
// times it beside aca and docker: what it costs over `docker run --rm` is the engine's work plus Node's start-up,
// which no Node client can avoid.
// Usage: node bench/floor-run.mjs IMAGE WORKSPACE LABEL=VALUE   (Docker, with the aca-isolated network present)
import { call } from './raw-engine.mjs';

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
  HostConfig: {
    Init: true, ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'],
    Tmpfs: { '/tmp': 'rw,nosuid,nodev,exec,size=858993459,mode=1777', '/run': 'rw,nosuid,nodev,noexec,size=67108864,mode=0755', '/home/aca': 'rw,nosuid,nodev,exec,size=858993459' },
    Memory: 4 * 2 ** 30, MemorySwap: 4 * 2 ** 30, NanoCpus: 2e9, CpuShares: 512, PidsLimit: 1024,
    Ulimits: [{ Name: 'nofile', Soft: 8192, Hard: 16384 }, { Name: 'nproc', Soft: 8192, Hard: 8192 }],
    IpcMode: 'private', CgroupnsMode: 'private', NetworkMode: 'aca-isolated', Binds: [`${workspace}:/workspace`],
  },
}));
const output = call('POST', `/containers/${created.Id}/attach?stream=1&stdout=1&stderr=1`, undefined, 'Connection: Upgrade\r\nUpgrade: tcp\r\n');
// Asked before the start, as the docker CLI does, so the exit cannot be missed.
const exited = call('POST', `/containers/${created.Id}/wait?condition=next-exit`);
await call('POST', `/containers/${created.Id}/start`);
const { StatusCode } = JSON.parse(await exited);
await output;
await call('DELETE', `/containers/${created.Id}?force=1`);
process.exitCode = StatusCode;
