#!/usr/bin/env node
// The least any Node program can do for `aca monitor --once SESSION...`: one list of aca's containers, then one stats
// answer per session with the engine's own one-second span (stream=false, as `docker stats --no-stream` asks), all
// at once, over raw unix-socket connections (raw-engine.mjs), with nothing else: no output, no health, no alerts.
// Usage: node bench/floor-stats.mjs SESSION...   (Docker)
import { call } from './raw-engine.mjs';

const filters = encodeURIComponent(JSON.stringify({ label: ['aca.managed=true', 'aca.session'] }));
const all = JSON.parse(await call('GET', `/containers/json?filters=${filters}`));
const ids = process.argv.slice(2).map((name) => all.find((c) => c.Labels['aca.session'] === name)?.Id);
if (ids.some((id) => !id)) throw new Error('a session is not running');
await Promise.all(ids.map((id) => call('GET', `/containers/${id}/stats?stream=false`)));
