import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_PIDS, parseBytes, parseCpus, parseDuration, parseMemory, parsePids, validateSessionName } from '../../src/parse.js';
import { UsageError } from '../../src/errors.js';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/timers.js';
import { scratchTmpfs, tmpfsSizes, DEFAULT_SECURITY } from '../../src/security/profile.js';
import { createBody } from '../../src/sessions/spec.js';
import type { Context } from '../../src/context.js';
import type { Engine } from '../../src/engine/index.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('limits the engine would refuse are usage errors naming the flag and the range', () => {
  it('memory: at least 6m, at most the host', () => {
    expect(parseMemory('512m', '--memory', 8 * GiB)).toBe(512 * MiB);
    expect(() => parseMemory('99999999999999999999g', '--memory', 8 * GiB)).toThrow(/^--memory: "99999999999999999999g" is too large \(allowed: 6m to 8192m, this host's memory\)$/);
    expect(() => parseMemory('9g', '--memory', 8 * GiB)).toThrow(/--memory: "9g" is more than this host's memory \(allowed: 6m to 8192m/);
    expect(() => parseMemory('5m', '--memory', 8 * GiB)).toThrow(/below the 6m minimum/);
    expect(() => parseMemory('5m', '--memory', 8 * GiB)).toThrow(UsageError);
    // A remote engine: no host bound known here, but never an inexact 64-bit number.
    expect(parseMemory('64g')).toBe(64 * GiB);
    expect(() => parseMemory('99999999999999999999g')).toThrow(/too large/);
  });
  it('cpus: 0.01 up to the host\'s count', () => {
    expect(parseCpus('2', '--cpus', 2)).toBe(2e9);
    expect(() => parseCpus('999', '--cpus', 2)).toThrow(/^--cpus: 999 CPUs is more than this host has \(allowed: 0.01 to 2\)$/);
    expect(() => parseCpus('0.001', '--cpus', 2)).toThrow(/below the 0.01 minimum/);
  });
  it('pids: 1 up to the kernel\'s PID_MAX_LIMIT', () => {
    expect(parsePids('1024')).toBe(1024);
    expect(parsePids(String(MAX_PIDS))).toBe(MAX_PIDS);
    expect(() => parsePids('99999999999')).toThrow(/^--pids: 99999999999 is more than the kernel allows \(allowed: 1 to 4194304\)$/);
    expect(() => parsePids('0')).toThrow(/--pids: expected a positive whole number/);
    expect(() => parsePids('-5', 'pids')).toThrow(/^pids:/);
  });
  it('sizes beyond 2^53 bytes are refused, not rounded', () => {
    expect(() => parseBytes('99999999t', '--disk')).toThrow(/--disk: size "99999999t" is too large/);
  });
  it('an empty --name is refused, not replaced by a random one', () => {
    expect(() => validateSessionName('')).toThrow(/^--name: the session name is empty/);
  });
  it('durations are bounded (10 years) and exact', () => {
    expect(parseDuration('600h')).toBe(600 * 3_600_000);
    expect(() => parseDuration('99999999999d', '--timeout')).toThrow(/--timeout: duration "99999999999d" is too long/);
    expect(() => parseDuration('9'.repeat(400), '--timeout')).toThrow(/too long/);
  });
});

describe('setLongTimeout', () => {
  afterEach(() => vi.useRealTimers());
  it('waits 600h although one Node timer cannot (2^31 ms fires at once)', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const delay = parseDuration('600h');
    expect(delay).toBeGreaterThan(MAX_TIMER_MS);
    setLongTimeout(fired, delay);
    vi.advanceTimersByTime(1000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(delay - MAX_TIMER_MS - 1001);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });
  it('fires short delays once and can be cancelled between steps', () => {
    vi.useFakeTimers();
    const short = vi.fn();
    setLongTimeout(short, 50);
    vi.advanceTimersByTime(50);
    expect(short).toHaveBeenCalledTimes(1);
    const long = vi.fn();
    const timer = setLongTimeout(long, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    timer.cancel();
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(long).not.toHaveBeenCalled();
  });
});

describe('tmpfs sizes', () => {
  const size = (options: string | undefined) => Number(/size=(\d+)/.exec(options ?? '')![1]);
  it.each([6 * MiB, 256 * MiB, 4 * GiB, 64 * GiB])('every tmpfs a session can fill takes less than half of a %d-byte limit', (memory) => {
    const body = createBody({
      name: 's', image: 'i', command: [], env: [], volumes: [], labels: {}, ports: [], user: '1000:1000', network: 'n', memory, nanoCpus: 1e9, pids: 10,
      interactive: false, tty: false, detach: false, ownership: {}, security: { ...DEFAULT_SECURITY, secrets: true },
    });
    const tmpfs = body.HostConfig.Tmpfs;
    expect(Object.keys(tmpfs).sort()).toEqual(['/home/aca', '/run', '/run/secrets', '/tmp']);
    const scratch = size(tmpfs['/tmp']) + size(tmpfs['/home/aca']) + size(tmpfs['/run']);
    expect(scratch).toBeLessThan(memory / 2);
    expect(size(tmpfs['/tmp'])).toBe(Math.floor(memory / 5));
    expect(size(tmpfs['/run/secrets'])).toBe(MiB);
  });
  it('/run is at most 64 MiB, and a writable root has no /tmp tmpfs to size', () => {
    expect(tmpfsSizes(64 * GiB).run).toBe(64 * MiB);
    expect(scratchTmpfs({ ...DEFAULT_SECURITY, writableRoot: true }, GiB, undefined)).toEqual({});
  });
});

describe('the disk limit', async () => {
  const { measuredPaths, parseDuKib, resolveDisk, verdict, needsDiskGuard } = await import('../../src/sessions/disk-limit.js');
  it('is 10g by default; --disk sets it over the configuration', () => {
    expect(resolveDisk(undefined, undefined)).toBe(10 * GiB);
    expect(resolveDisk('100g', '1g')).toBe(100 * GiB);
    expect(resolveDisk(undefined, '1g')).toBe(GiB);
    expect(() => resolveDisk('0', undefined)).toThrow(/--disk: size must be positive/);
    expect(() => resolveDisk('100k', undefined)).toThrow(/--disk: "100k" is below the 1m minimum/);
    expect(() => resolveDisk(undefined, '100k')).toThrow(/^disk: "100k" is below the 1m minimum/);
  });
  it('is a narrowing key: a project file may only lower it', async () => {
    const { KEY_CLASSES, narrowingDefaults, wideningKeys } = await import('../../src/config/classify.js');
    expect(KEY_CLASSES.disk.kind).toBe('narrowing');
    expect(wideningKeys({ disk: '100g' }, narrowingDefaults())).toEqual([{ key: 'disk', why: '100g is above 10g' }]);
    expect(wideningKeys({ disk: '1g' }, narrowingDefaults())).toEqual([]);
    expect(wideningKeys({ disk: '50g' }, { disk: '100g' })).toEqual([]);
  });
  it('measures only the session\'s own volumes: caches and bind mounts are not its writes', () => {
    expect(measuredPaths('s', [
      { Type: 'volume', Name: 'aca-s-home', Destination: '/home/aca' },
      { Type: 'volume', Name: 'aca-s-workspace', Destination: '/workspace' },
      { Type: 'volume', Name: 'aca-cache-npm', Destination: '/home/aca/.npm' },
      { Type: 'bind', Destination: '/workspace/.git/hooks' },
      { Type: 'volume', Name: 'aca-other-home', Destination: '/home/aca' },
    ])).toEqual(['/home/aca', '/workspace']);
  });
  it('reads du -sk output and refuses anything else', () => {
    expect(parseDuKib('1024\t/home/aca\n8\t/workspace\n', 2)).toBe(1032 * 1024);
    expect(parseDuKib('du: cannot read directory', 1)).toBeUndefined();
    expect(parseDuKib('12\t/home/aca\n', 2)).toBeUndefined();
  });
  it('stops above the limit, and when the session hides its files from the check', () => {
    expect(verdict('s', { bytes: 32 * MiB }, 32 * MiB)).toBeUndefined();
    expect(verdict('s', { bytes: 80 * MiB }, 32 * MiB)).toBe('session s was stopped: it wrote 80 MiB, above its disk limit of 32 MiB (--disk)');
    expect(verdict('s', { unmeasurable: "du: can't open 'x': Permission denied" }, GiB)).toMatch(/cannot be measured \(du: can't open/);
    expect(verdict('s', { cannotCheck: 'the image has no du' }, GiB)).toBeUndefined();
  });
  it('guards only sessions that write to the engine\'s disk', () => {
    expect(needsDiskGuard({ 'aca.disk': '1024' }, true, false)).toBe(true);
    expect(needsDiskGuard({ 'aca.disk': '1024' }, false, true)).toBe(true);
    expect(needsDiskGuard({ 'aca.disk': '1024' }, false, false)).toBe(false);
    expect(needsDiskGuard({}, true, true)).toBe(false);
  });
});

describe('one disk guard per engine and state directory', async () => {
  const { claim, claimVerdict, guardKey, readClaim, CLAIM_FRESH_MS } = await import('../../src/sessions/disk-guard-claim.js');
  const { guardedHere } = await import('../../src/sessions/disk-guard.js');
  const { stateId } = await import('../../src/state-dir.js');
  const { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-guard-unit-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is keyed by the engine flags and the endpoint they reached', () => {
    const docker = { kind: 'docker', url: 'unix:///var/run/docker.sock' };
    const key = guardKey([], docker);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(guardKey([], { ...docker })).toBe(key);
    expect(guardKey(['--engine', 'docker'], docker)).not.toBe(key);
    // The same flags reaching another engine (DOCKER_HOST, a project's host): another guard.
    expect(guardKey([], { kind: 'podman', url: 'unix:///run/podman/podman.sock' })).not.toBe(key);
    expect(guardKey([], { kind: 'docker', url: 'tcp://10.0.0.2:2376' })).not.toBe(key);
  });

  it('treats a pid file as held while its guard lives or its claim is fresh, else as stale', () => {
    const alive = (pid: number) => pid === 42;
    expect(claimVerdict({ pid: 42, ageMs: 3_600_000 }, alive)).toBe('held');
    expect(claimVerdict({ pid: 43, ageMs: 0 }, alive)).toBe('stale');
    expect(claimVerdict({ pid: undefined, ageMs: 0 }, alive)).toBe('held');
    expect(claimVerdict({ pid: undefined, ageMs: CLAIM_FRESH_MS - 1 }, alive)).toBe('held');
    expect(claimVerdict({ pid: undefined, ageMs: CLAIM_FRESH_MS }, alive)).toBe('stale');
  });

  it('claims with O_EXCL: one start while the guard lives, a stale file replaced once', () => {
    const file = join(scratch(), 'k.pid');
    let starts = 0;
    const start = () => 1000 + ++starts;
    const live = new Set<number>();
    const alive = (pid: number) => live.has(pid);
    expect(claim(file, start, alive)).toBe('claimed');
    expect(readFileSync(file, 'utf8')).toBe('1001');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    live.add(1001);
    expect(claim(file, start, alive)).toBe('held');
    expect(starts).toBe(1);
    // Its guard died (killed, rebooted): the next run starts another.
    live.clear();
    expect(claim(file, start, alive)).toBe('claimed');
    expect(readClaim(file)?.pid).toBe(1002);
    // A claim whose spawner has not written the pid yet is held; left so for long, it is stale.
    writeFileSync(file, '');
    expect(claim(file, start, alive)).toBe('held');
    const old = (Date.now() - CLAIM_FRESH_MS - 1000) / 1000;
    utimesSync(file, old, old);
    expect(claim(file, start, alive)).toBe('claimed');
    expect(starts).toBe(3);
    // A spawn that failed leaves no claim behind.
    live.clear();
    rmSync(file);
    expect(claim(file, () => undefined, alive)).toBe('failed');
    expect(existsSync(file)).toBe(false);
    expect(claim(file, () => { throw new Error('spawn failed'); }, alive)).toBe('failed');
    expect(existsSync(file)).toBe(false);
  });

  it('keeps the sessions made from its state directory, and only aca\'s sessions with a disk limit', () => {
    const scope = { stateId: '0123456789abcdef', user: 'me', host: 'here' };
    const session = { 'aca.managed': 'true', 'aca.session': 's', 'aca.disk': '1024', 'aca.owner': 'me', 'aca.owner.host': 'here' };
    expect(guardedHere({ ...session, 'aca.owner.state': scope.stateId }, scope)).toBe(true);
    // Another state directory (XDG_STATE_HOME), or the same path on another host sharing the engine: its own guard.
    expect(guardedHere({ ...session, 'aca.owner.state': 'fedcba9876543210' }, scope)).toBe(false);
    // Made before sessions carried the state id: its user's guard on its host.
    expect(guardedHere(session, scope)).toBe(true);
    expect(guardedHere({ ...session, 'aca.owner': 'other' }, scope)).toBe(false);
    expect(guardedHere({ ...session, 'aca.owner.host': 'there' }, scope)).toBe(false);
    expect(guardedHere({ ...session, 'aca.disk': '0' }, scope)).toBe(false);
    expect(guardedHere({ ...session, 'aca.helper': 'storage' }, scope)).toBe(false);
    expect(guardedHere({ ...session, 'aca.managed': 'false' }, scope)).toBe(false);
    expect(guardedHere(null, scope)).toBe(false);
  });

  it('stops a session that hides its files from du, but not one the guard lost its way to (its connection, not the session)', async () => {
    const { checkOnce } = await import('../../src/sessions/disk-guard.js');
    const { EngineDownError } = await import('../../src/engine/index.js');
    const env = { XDG_STATE_HOME: scratch() };
    const info = {
      Id: 'c1', Name: '/aca-s1',
      Config: { User: '1000:1000', Labels: { 'aca.managed': 'true', 'aca.session': 's1', 'aca.disk': String(1024 ** 3) } },
      HostConfig: { ReadonlyRootfs: true },
      Mounts: [{ Type: 'volume', Name: 'aca-s1-home', Destination: '/home/aca', Source: '', RW: true }],
      State: { Running: true, StartedAt: '2026-12-07T00:00:00Z' },
    };
    const fakeEngine = (exec: () => Promise<{ exitCode: number; output: string }>) => {
      const stopped: string[] = [];
      const engine = {
        inspectContainer: async () => info,
        execWithInput: exec,
        stopContainer: async (id: string) => { stopped.push(id); },
      } as unknown as Engine;
      return { engine, stopped };
    };
    const ctx = { env } as unknown as Context;
    const audit = join(env.XDG_STATE_HOME, 'aca', 'audit.jsonl');

    const lost = fakeEngine(async () => { throw new EngineDownError('the engine at ssh://root@127.0.0.1:1 cannot be reached: ssh: Connection refused', { reason: 'refused' }); });
    await checkOnce(ctx, lost.engine, 'c1', new Set());
    expect(lost.stopped).toEqual([]);
    expect(existsSync(audit)).toBe(false);

    // A timeout is not a lost way: the session may be what makes the engine slow to answer.
    const slow = fakeEngine(async () => { throw new EngineDownError('the engine at unix:///x cannot be reached: timed out (no answer within 120 s)', { reason: 'timed out', timedOut: true }); });
    await checkOnce(ctx, slow.engine, 'c1', new Set());
    expect(slow.stopped).toEqual(['c1']);
    expect(readFileSync(audit, 'utf8')).toContain('its disk use cannot be measured (the engine at unix:///x cannot be reached: timed out');

    const hidden = fakeEngine(async () => ({ exitCode: 1, output: "du: can't open '/home/aca/secret': Permission denied\n" }));
    await checkOnce(ctx, hidden.engine, 'c1', new Set());
    expect(hidden.stopped).toEqual(['c1']);
    expect(readFileSync(audit, 'utf8')).toContain('its disk use cannot be measured (du: can\'t open');
  });

  it('gives each state directory one random id, kept', () => {
    const a = { XDG_STATE_HOME: scratch() };
    const id = stateId(a);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(stateId(a)).toBe(id);
    expect(statSync(join(a.XDG_STATE_HOME, 'aca', 'id')).mode & 0o777).toBe(0o600);
    expect(stateId({ XDG_STATE_HOME: scratch() })).not.toBe(id);
  });
});
