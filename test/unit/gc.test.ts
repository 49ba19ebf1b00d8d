import { describe, expect, it } from 'vitest';
import { isExpired, planGc, type GcInventory, type GcOptions } from '../../src/gc/plan.js';
import { isOrphan, type HostFacts } from '../../src/host.js';

const now = new Date('2026-01-01T12:00:00Z');
const facts: HostFacts = { now, hostname: 'box', bootId: 'boot-1', ownerAlive: (pid) => pid === 111 };
const options: GcOptions = { olderThanMs: 0, includeRunning: false, keepVolumes: false, caches: false, keepCheckpoints: 2 };
const old = '2026-01-01T10:00:00Z';
const labels = (extra: Record<string, string> = {}) => ({ 'aca.managed': 'true', 'aca.created': old, 'aca.mode': 'detached', ...extra });
const fg = (pid: number, extra: Record<string, string> = {}) =>
  labels({ 'aca.mode': 'foreground', 'aca.owner.pid': String(pid), 'aca.owner.boot': 'boot-1', 'aca.owner.host': 'box', ...extra });
const empty: GcInventory = { sessions: [], helpers: [], volumes: [], networks: [], danglingImages: [], checkpoints: [] };

describe('orphans and expiry', () => {
  it('is an orphan only when a foreground owner on this host is gone', () => {
    expect(isOrphan(fg(111), facts)).toBe(false);
    expect(isOrphan(fg(222), facts)).toBe(true);
    expect(isOrphan(fg(111, { 'aca.owner.boot': 'boot-0' }), facts)).toBe(true);
    expect(isOrphan(fg(222, { 'aca.owner.host': 'other' }), facts)).toBe(false);
    expect(isOrphan(labels({ 'aca.owner.pid': '222' }), facts)).toBe(false);
  });
  it('expires on its --ttl', () => {
    expect(isExpired({ 'aca.expires': '2026-01-01T11:59:59Z' }, now)).toBe(true);
    expect(isExpired({ 'aca.expires': '2026-01-01T12:00:01Z' }, now)).toBe(false);
    expect(isExpired({ 'aca.expires': '' }, now)).toBe(false);
  });
});

describe('planGc', () => {
  const session = (name: string, state: string, l: Record<string, string>, finishedAt?: string) => ({ id: `id-${name}`, name, state, labels: l, finishedAt });
  it('removes stopped, orphaned and expired sessions; keeps running and young ones', () => {
    const plan = planGc({
      ...empty,
      sessions: [
        session('stopped', 'exited', labels(), '2026-01-01T11:00:00Z'),
        session('running', 'running', labels()),
        session('orphan', 'running', fg(222)),
        session('owned', 'running', fg(111)),
        session('expired', 'running', labels({ 'aca.expires': '2026-01-01T11:00:00Z' })),
        session('creating', 'created', labels({ 'aca.created': '2026-01-01T11:59:50Z' })),
      ],
    }, options, facts);
    expect(plan.map((a) => `${a.name}: ${a.reason}`)).toEqual([
      'stopped: stopped (exited)',
      'orphan: orphaned: its aca process is gone',
      'expired: expired at 2026-01-01T11:00:00Z',
    ]);
    expect(planGc({ ...empty, sessions: [session('running', 'running', labels())] }, { ...options, includeRunning: true }, facts)).toHaveLength(1);
  });
  it('honours --older-than', () => {
    const inv = { ...empty, sessions: [session('recent', 'exited', labels(), '2026-01-01T11:30:00Z')] };
    expect(planGc(inv, { ...options, olderThanMs: 3_600_000 }, facts)).toEqual([]);
    expect(planGc(inv, { ...options, olderThanMs: 60_000 }, facts)).toHaveLength(1);
  });
  it('calls a session "gone" only when it is: a volume removed with its session says so', () => {
    const created = Date.parse(old) / 1000;
    const plan = planGc({
      ...empty,
      sessions: [session('stopped', 'exited', labels(), '2026-01-01T11:00:00Z')],
      volumes: [
        { id: 'aca-stopped-home', name: 'aca-stopped-home', labels: { 'aca.session': 'stopped' }, created },
        { id: 'aca-vanished-home', name: 'aca-vanished-home', labels: { 'aca.session': 'vanished' }, created },
      ],
    }, options, facts);
    expect(plan.map((a) => `${a.name}: ${a.reason}`)).toEqual([
      'stopped: stopped (exited)',
      'aca-stopped-home: session stopped is removed too',
      'aca-vanished-home: session vanished is gone',
    ]);
  });
  it('removes volumes and networks of gone sessions only, caches only with --caches, nothing young', () => {
    const created = Date.parse(old) / 1000;
    const plan = planGc({
      ...empty,
      sessions: [session('alive', 'running', labels())],
      volumes: [
        { id: 'aca-alive-home', name: 'aca-alive-home', labels: { 'aca.session': 'alive' }, created },
        { id: 'aca-gone-home', name: 'aca-gone-home', labels: { 'aca.session': 'gone' }, created },
        { id: 'aca-new-home', name: 'aca-new-home', labels: { 'aca.session': 'new' }, created: now.getTime() / 1000 - 5 },
        { id: 'aca-cache-npm', name: 'aca-cache-npm', labels: { 'aca.cache': 'npm' }, created },
      ],
      networks: [{ id: 'n1', name: 'aca-gone', labels: { 'aca.session': 'gone' } }],
    }, options, facts);
    expect(plan.map((a) => a.name)).toEqual(['aca-gone-home', 'aca-gone']);
    const withCaches = planGc({ ...empty, volumes: [{ id: 'c', name: 'aca-cache-npm', labels: { 'aca.cache': 'npm' }, created }] }, { ...options, caches: true }, facts);
    expect(withCaches.map((a) => a.name)).toEqual(['aca-cache-npm']);
    expect(planGc({ ...empty, volumes: [{ id: 'v', name: 'v', labels: { 'aca.session': 'gone' }, created }] }, { ...options, keepVolumes: true }, facts)).toEqual([]);
  });
  it('keeps the newest checkpoints per session', () => {
    const ck = (name: string, created: number, of = 's') => ({ id: name, name, labels: { 'aca.checkpoint': name, 'aca.checkpoint.session': of }, created });
    const plan = planGc({ ...empty, checkpoints: [ck('a', 1), ck('b', 3), ck('c', 2), ck('d', 1, 'other')] }, options, facts);
    expect(plan.map((a) => a.name)).toEqual(['a']);
  });
  it('touches only the labelled sessions and their own objects when scoped', () => {
    const created = Date.parse(old) / 1000;
    const plan = planGc({
      scoped: true,
      sessions: [session('mine', 'exited', labels())],
      helpers: [{ id: 'h', name: 'h', labels: {}, created }],
      volumes: [
        { id: 'aca-mine-home', name: 'aca-mine-home', labels: { 'aca.session': 'mine' }, created },
        { id: 'aca-other-home', name: 'aca-other-home', labels: { 'aca.session': 'other' }, created },
      ],
      networks: [],
      danglingImages: [{ id: 'img', name: 'img', labels: {} }],
      checkpoints: [],
    }, options, facts);
    expect(plan.map((a) => a.name)).toEqual(['mine', 'aca-mine-home']);
  });
});

describe('un-exported work and interrupted checkpoints', () => {
  const stopped = { id: 'id-w', name: 'w', state: 'exited', labels: labels(), finishedAt: old };
  const marker = { id: 'aca-w-unexported', name: 'aca-w-unexported', labels: { 'aca.session': 'w', 'aca.volume': 'unexported' }, created: 0 };
  const workspace = { id: 'aca-w-workspace', name: 'aca-w-workspace', labels: { 'aca.session': 'w', 'aca.volume': 'workspace' }, created: 0 };
  const inventory = { ...empty, sessions: [stopped], volumes: [marker, workspace] };
  it('spares a session with un-exported changes and its volumes, and says why', async () => {
    const { planGcSparing } = await import('../../src/gc/plan.js');
    const plan = planGcSparing(inventory, options, facts);
    expect(plan.actions).toEqual([]);
    expect(plan.spared).toEqual([expect.objectContaining({ kind: 'session', name: 'w', reason: expect.stringContaining('un-exported changes') })]);
    expect(planGc(inventory, { ...options, includeUnexported: true }, facts).map((a) => a.name).sort()).toEqual(['aca-w-unexported', 'aca-w-workspace', 'w']);
    expect(planGc(inventory, { ...options, unexportedMaxAgeMs: 3_600_000 }, facts).map((a) => a.name)).toContain('w');
    expect(planGc(inventory, { ...options, unexportedMaxAgeMs: 3 * 3_600_000 }, facts)).toEqual([]);
  });
  it('removes the volumes of a checkpoint whose image was never made once its maker is gone, and resumes the session it paused', () => {
    const ckpt = (pid: number) => ({
      id: `aca-ckpt-c-home`, name: 'aca-ckpt-c-home', created: 0,
      labels: { 'aca.checkpoint': 'c', 'aca.checkpoint.session': 'p', 'aca.checkpoint.paused': 'true', 'aca.owner.pid': String(pid), 'aca.owner.host': 'box', 'aca.owner.boot': 'boot-1' },
    });
    const paused = { id: 'id-p', name: 'p', state: 'paused', labels: labels() };
    expect(planGc({ ...empty, sessions: [paused], volumes: [ckpt(111)] }, options, facts)).toEqual([]);
    expect(planGc({ ...empty, sessions: [paused], volumes: [ckpt(222)] }, options, facts).map((a) => `${a.kind}:${a.name}`)).toEqual(['volume:aca-ckpt-c-home', 'resume:p']);
    const complete = { id: 'img', name: 'c', labels: { 'aca.checkpoint': 'c', 'aca.checkpoint.session': 'p' }, created: 0 };
    expect(planGc({ ...empty, sessions: [paused], volumes: [ckpt(222)], checkpoints: [complete] }, options, facts)).toEqual([]);
  });
});

describe('what an interrupted set-up left', () => {
  it('removes a young volume and helper at once when the aca process that made them is gone, never while it lives', () => {
    const creator = (pid: number) => ({ 'aca.owner.pid': String(pid), 'aca.owner.host': 'box', 'aca.owner.boot': 'boot-1' });
    const young = Math.floor(now.getTime() / 1000) - 5;
    const volume = (pid: number) => ({ id: 'aca-x-workspace', name: 'aca-x-workspace', labels: { 'aca.session': 'x', acatest: 'r', ...creator(pid) }, created: young });
    const helper = (pid: number) => ({ id: 'h', name: 'aca-x-init', labels: { 'aca.session': 'x', 'aca.helper': 'storage', acatest: 'r', ...creator(pid) }, created: young });
    const scoped = { ...empty, scoped: true, scopeLabels: ['acatest=r'] };
    expect(planGc({ ...scoped, volumes: [volume(111)], helpers: [helper(111)] }, options, facts)).toEqual([]);
    expect(planGc({ ...scoped, volumes: [volume(222)], helpers: [helper(222)] }, options, facts).map((a) => `${a.kind}:${a.name}`).sort()).toEqual(['helper:aca-x-init', 'volume:aca-x-workspace']);
    expect(planGc({ ...scoped, scopeLabels: ['acatest=other'], volumes: [volume(222)], helpers: [helper(222)] }, options, facts)).toEqual([]);
  });
});

describe('gc and --branch sessions', () => {
  it('keeps a stopped branch session until its branch is merged', async () => {
    const { planGcSparing } = await import('../../src/gc/plan.js');
    const session = { id: 'b1', name: 'agent-a', state: 'exited', labels: { 'aca.managed': 'true', 'aca.session': 'agent-a', 'aca.mode': 'kept', 'aca.branch': 'fix-login', 'aca.created': new Date().toISOString() } };
    const inventory = { sessions: [session], volumes: [], helpers: [], networks: [], danglingImages: [], checkpoints: [] } as never;
    const facts = (merged: boolean) => ({ now: new Date(), hostname: 'h', bootId: 'b', ownerAlive: () => false, merged: () => merged });
    const unmerged = planGcSparing(inventory, {} as never, facts(false));
    expect(unmerged.actions.filter((a) => a.kind === 'session')).toEqual([]);
    expect(unmerged.spared[0]?.reason).toMatch(/its branch fix-login is not merged \(aca diff agent-a; aca merge agent-a/);
    expect(planGcSparing(inventory, {} as never, facts(true)).actions.map((a) => a.name)).toContain('agent-a');
    expect(planGcSparing(inventory, { includeUnexported: true } as never, facts(false)).actions.map((a) => a.name)).toContain('agent-a');
  });
});
