/**
 * `aca monitor`: sample the watched sessions every interval, alert, record,
 * supervise, and print (a live table, plain tables, NDJSON or supervisor
 * actions). A session that stops or vanishes is reported once and dropped;
 * nothing a single session or a failed request does stops the loop.
 *
 * Cost: per interval, one list of aca's containers and one one-shot stats
 * request per running session over a keep-alive connection (the first one
 * not one-shot: the engine's own one-second span gives CPU % at once); one
 * events stream for OOM kills. Nothing else (see bench/monitor-cost.mjs).
 */
import type { UnhealthyPolicy } from '../config/sections.js';
import type { Context } from '../context.js';
import { type ContainerSummary, type Engine, EngineDownError, isNotFound } from '../engine/index.js';
import { AcaError, EXIT } from '../errors.js';
import { truncateVisible } from '../output.js';
import { LABEL, MANAGED_FILTER } from '../labels.js';
import { healthFromStatus } from '../sessions/manage.js';
import { listSessions, matchSession, resolveSession, sessionName } from '../sessions/resolve.js';
import { endAlerts, oomAlert } from './alerts.js';
import { HistoryWriter } from './history.js';
import { describeEnd, renderTable, type TableRow } from './render.js';
import { SessionSampler, toHealth, type Sample, type SessionEnd } from './sampler.js';
import type { MonitorSettings } from './settings.js';
import { Supervisor, describeAction, type SupervisorAction } from './supervisor.js';

interface Watched {
  sampler: SessionSampler;
  policy: UnhealthyPolicy;
  record: boolean;
  startedAt: number | undefined;
  last: Sample | undefined;
}

type Mode = 'json' | 'live' | 'plain' | 'supervise';

// A frame overwrites the last in place: cursor home, each line cleared to its end, the rest of the screen
// cleared after it. No full clear, so nothing flickers.
const CURSOR_HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_SCREEN_END = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
/** Notices (sessions gone) shown under the live table. */
const LIVE_NOTICES = 5;

export async function monitor(ctx: Context, names: string[], settings: MonitorSettings): Promise<number> {
  const engine = await ctx.engine();
  const mode: Mode = settings.supervise ? 'supervise' : settings.json ? 'json' : ctx.out.stdout.isTTY ? 'live' : 'plain';
  const watched = new Map<string, Watched>();
  const namedIds = new Set<string>();
  const busy = new Set<string>();
  const notices: string[] = [];
  const warned = new Set<string>();
  const history = new HistoryWriter(ctx.env, (line) => ctx.out.warn(line));
  const supervisor = settings.supervise ? new Supervisor(settings.supervise) : undefined;
  const statsTimeoutMs = Math.max(settings.intervalMs, 5_000);
  let alerted = false;
  let stopping = false;
  /** The engine stopped answering; a supervisor keeps trying until it is back. */
  let engineLost = false;
  let wake: (() => void) | undefined;

  const warnOnce = (line: string) => {
    if (warned.has(line)) return;
    warned.add(line);
    ctx.out.warn(line);
  };

  // Several names: one list answers them all, where an inspect each would cost a round trip each.
  const named = names.length > 1
    ? await listSessions(engine).then((all) => names.map((query) => matchSession(all, query)))
    : (await Promise.all(names.map((query) => resolveSession(engine, query)))).map((ref) => ref.summary);
  for (const summary of named) {
    if (summary.State === 'running') namedIds.add(summary.Id);
    else ctx.out.warn(`session ${sessionName(summary)} is not running (${summary.State}); not watched`);
  }
  if (names.length > 0 && namedIds.size === 0) throw new AcaError('none of the named sessions is running');

  const onSignal = () => {
    stopping = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const openOomEvents = () => (settings.once ? Promise.resolve(undefined) : watchOomEvents(engine, (id) => {
    const session = watched.get(id);
    if (!session || session.sampler.oomReported) return;
    session.sampler.pending.push(oomAlert(session.sampler.limitBytes));
    session.sampler.oomReported = true;
  }).catch((error: Error) => { ctx.out.debug(`no OOM events: ${error.message}`); return undefined; }));
  let oomEvents = await openOomEvents();

  const emitEnd = async (session: Watched, end: SessionEnd) => {
    watched.delete(session.sampler.id);
    namedIds.delete(session.sampler.id);
    supervisor?.forget(session.sampler.id);
    if (end.alerts.length > 0) alerted = true;
    if (session.record) await history.append(end);
    if (mode === 'json') ctx.out.data(JSON.stringify(end));
    const text = describeEnd(end) + (end.alerts.length > 0 ? ` [${end.alerts.map((a) => a.message).join('; ')}]` : '');
    if (mode === 'live') notices.push(`${end.time}  ${text}`);
    else ctx.out.info(`aca: ${text}`);
  };

  /** What became of a watched session that is no longer running. */
  const settle = async (session: Watched, summary: ContainerSummary | undefined, time: string) => {
    // Alerts learnt since its last sample (an OOM event just before it ended) go out with its last line.
    const unsent = () => session.sampler.pending.splice(0);
    if (!summary) return emitEnd(session, { session: session.sampler.name, time, event: 'removed', alerts: unsent() });
    let state;
    try {
      state = (await engine.inspectContainer(session.sampler.id)).State;
    } catch (error) {
      if (isNotFound(error)) return emitEnd(session, { session: session.sampler.name, time, event: 'removed', alerts: unsent() });
      throw error;
    }
    // The list is older than this answer: a restart (the supervisor's own) may have finished in between.
    if (state.Running || state.Restarting || state.Paused) return;
    const oomKilled = state.OOMKilled;
    const alerts = endAlerts(unsent(), { oomKilled, exitCode: state.ExitCode }, session.sampler.limitBytes, session.sampler.oomReported);
    return emitEnd(session, { session: session.sampler.name, time, event: 'exited', exitCode: state.ExitCode, oomKilled, alerts });
  };

  const supervise = (session: Watched, health: Sample['health']) => {
    const { id, name } = session.sampler;
    const decision = supervisor?.decide(id, session.policy, health, Date.now());
    if (!decision) return;
    const action: SupervisorAction = {
      time: new Date().toISOString(),
      session: name,
      action: decision.action,
      reason: 'unhealthy',
      ...(decision.action !== 'stop' ? { restarts: decision.restarts, maxRestarts: supervisor!.limits.maxRestarts } : {}),
    };
    const print = () => ctx.out.data(settings.json ? JSON.stringify(action) : describeAction(action));
    if (decision.action === 'give-up') return print();
    busy.add(id);
    const done = decision.action === 'restart' ? engine.restartContainer(id, 10) : engine.stopContainer(id, 10);
    // Not awaited: a slow stop must not hold up the other sessions' samples.
    void done
      .then(() => {
        session.sampler.reset();
        session.startedAt = undefined;
      })
      .catch((error: Error) => { action.error = error.message; })
      .finally(() => {
        busy.delete(id);
        print();
      });
  };

  const tick = async (): Promise<Sample[]> => {
    const time = new Date();
    let list: ContainerSummary[];
    try {
      list = await listSessions(engine, true);
    } catch (error) {
      if (!(error instanceof EngineDownError)) {
        warnOnce(`cannot list sessions: ${(error as Error).message}`);
        return [];
      }
      // Watching needs the engine: a plain monitor ends (exit 125); a supervisor waits for it to come back.
      if (mode !== 'supervise') throw error;
      if (!engineLost) ctx.out.warn(`${error.message}; reconnecting`);
      engineLost = true;
      return [];
    }
    if (engineLost) {
      engineLost = false;
      ctx.out.warn('the engine is back; supervising again');
      oomEvents?.stop();
      oomEvents = await openOomEvents();
    }
    const byId = new Map(list.map((c) => [c.Id, c]));
    for (const session of [...watched.values()]) {
      if (busy.has(session.sampler.id)) continue;
      const summary = byId.get(session.sampler.id);
      // Paused or restarting: still there, just not sampled now.
      if (summary && ['running', 'paused', 'restarting'].includes(summary.State)) continue;
      await settle(session, summary, time.toISOString()).catch((error: Error) => warnOnce(`${session.sampler.name}: ${error.message}`));
    }
    for (const summary of list) {
      if (summary.State !== 'running' || watched.has(summary.Id)) continue;
      if (names.length > 0 ? !namedIds.has(summary.Id) : false) continue;
      const labels = summary.Labels ?? {};
      watched.set(summary.Id, {
        sampler: new SessionSampler(summary.Id, sessionName(summary), settings.thresholds),
        policy: (labels[LABEL.onUnhealthy] as UnhealthyPolicy | undefined) ?? 'none',
        record: labels[LABEL.record] === 'true',
        startedAt: undefined,
        last: undefined,
      });
    }
    const running = [...watched.values()].filter((s) => !busy.has(s.sampler.id) && byId.get(s.sampler.id)?.State === 'running');
    const samples = await Promise.all(running.map(async (session) => {
      const { sampler } = session;
      try {
        const [raw] = await Promise.all([
          sampler.read(engine, statsTimeoutMs),
          session.startedAt === undefined && (mode === 'live' || mode === 'plain') ? startedAt(engine, sampler.id).then((t) => { session.startedAt = t; }) : undefined,
        ]);
        let health = toHealth(healthFromStatus(byId.get(sampler.id)?.Status ?? ''));
        // Where the engine does not run health checks by itself (Podman without systemd), the monitor runs them,
        // once a sample.
        if (!engine.capabilities.healthChecksRunByEngine && health !== 'none') {
          const status = await engine.runHealthcheck(sampler.id).catch(() => undefined);
          if (status) health = toHealth(status);
        }
        const sample = sampler.measure(raw, health, time);
        if (!sample) return undefined;
        session.last = sample;
        if (sample.alerts.length > 0) alerted = true;
        if (session.record) await history.append(sample);
        supervise(session, health);
        return sample;
      } catch (error) {
        // Gone or stopping between the list and the stats: the next tick settles it.
        ctx.out.debug(`${sampler.name}: no sample: ${(error as Error).message}`);
        return undefined;
      }
    }));
    return samples.filter((s): s is Sample => s !== undefined);
  };

  const rowsToShow = (): TableRow[] =>
    [...watched.values()]
      .filter((s) => s.last)
      .map((s) => ({ sample: s.last!, cpuTrend: s.sampler.cpuTrend, memoryTrend: s.sampler.memoryTrend, startedAt: s.startedAt }))
      .sort((a, b) => a.sample.session.localeCompare(b.sample.session));

  /** One live frame, fitted to the terminal: as wide as it is, one line short of its height (no scrolling). */
  const drawLive = () => {
    const { columns = 80, rows: height = 24 } = ctx.out.stdout as { columns?: number; rows?: number };
    const rows = rowsToShow();
    const shown = notices.slice(-LIVE_NOTICES);
    const title = ctx.out.color.dim(`aca monitor: ${rows.length} session(s), every ${settings.intervalMs / 1000}s; Ctrl-C to quit`);
    let lines = [title, ...renderTable(rows, ctx.out.color, Date.now(), columns).split('\n'), ...(shown.length ? ['', ...shown] : [])];
    if (lines.length > height - 1) {
      const cut = lines.length - (height - 2);
      lines = [...lines.slice(0, height - 2), ctx.out.color.dim(`... ${cut} more line(s): enlarge the terminal or use --json`)];
    }
    const fitted = lines.map((line) => `${truncateVisible(line, columns)}${CLEAR_LINE_END}`);
    ctx.out.stdout.write(`${CURSOR_HOME}${fitted.join('\n')}\n${CLEAR_SCREEN_END}`);
  };

  const show = (samples: Sample[]) => {
    if (mode === 'json') {
      for (const sample of samples) ctx.out.data(JSON.stringify(sample));
      return;
    }
    if (mode === 'supervise') return;
    if (mode === 'live') return drawLive();
    const rows = rowsToShow();
    // Nothing to show is not worth a header every interval in a log.
    if (rows.length > 0) ctx.out.data(`${new Date().toISOString()}\n${renderTable(rows, ctx.out.color, Date.now())}\n`);
  };

  // A resized terminal gets a fitted frame at once, not at the next sample.
  const onResize = () => drawLive();
  if (mode === 'live') {
    ctx.out.stdout.write(HIDE_CURSOR);
    ctx.out.stdout.on('resize', onResize);
    drawLive(); // the title and headers while the first reading is taken
  }
  try {
    // The first reading spans about a second on its own (see SessionSampler.read), so the first sample shows at once.
    let next = 0;
    let printed = 0;
    while (!stopping) {
      show(await tick());
      printed += 1;
      if (settings.count !== undefined && printed >= settings.count) break;
      if (names.length > 0 && watched.size === 0) break;
      next = next === 0 ? Date.now() + settings.intervalMs : Math.max(next + settings.intervalMs, Date.now());
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(0, next - Date.now()));
      });
    }
    if (watched.size === 0 && names.length === 0 && settings.once && mode !== 'json') ctx.out.info('aca: no running sessions');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    oomEvents?.stop();
    if (mode === 'live') {
      ctx.out.stdout.off('resize', onResize);
      ctx.out.stdout.write(SHOW_CURSOR);
    }
  }
  return settings.failOnAlert && alerted ? EXIT.alert : EXIT.ok;
}

async function startedAt(engine: Engine, id: string): Promise<number | undefined> {
  const started = Date.parse((await engine.inspectContainer(id)).State.StartedAt);
  return Number.isNaN(started) ? undefined : started;
}

/** One events stream for the OOM kills of any aca session, including of processes that are not PID 1. */
function watchOomEvents(engine: Engine, onOom: (id: string) => void): Promise<{ stop(): void }> {
  return engine.watchEvents({ type: ['container'], event: ['oom'], label: [MANAGED_FILTER] }, (event) => {
    const id = event.Actor?.ID ?? event.id;
    if (id) onOom(id);
  });
}
