#!/usr/bin/env node
// The least any Node program can do for `exec CONTAINER true`: the four Engine API calls aca makes (inspect the
// container, create the exec, start it and read until it ends, inspect it for the exit code) over raw unix-socket
// connections (raw-engine.mjs). bench/run.mjs times it beside aca and docker to show which part of `aca exec` is
// Node's own start-up and which is aca's.
// Usage: node bench/floor-exec.mjs CONTAINER   (a Docker engine at /var/run/docker.sock, or DOCKER_HOST=unix://...)
import { call } from './raw-engine.mjs';

const container = JSON.parse(await call('GET', `/containers/${process.argv[2]}/json`)).Id;
const exec = JSON.parse(await call('POST', `/containers/${container}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true })).Id;
await call('POST', `/exec/${exec}/start`, { Detach: false, Tty: false });
process.exitCode = JSON.parse(await call('GET', `/exec/${exec}/json`)).ExitCode;
