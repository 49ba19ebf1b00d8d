/**
 * `aca run --record` in the foreground: sample the session in-process while
 * its command runs and append each sample to its history, then how it ended.
 * Loaded only with --record, so a plain run pays nothing for it.
 * (Detached sessions are recorded by `aca monitor`, whenever it watches them.)
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import type { MonitorConfig } from '../config/sections.js';
import { stopAlerts } from './alerts.js';
import { HistoryWriter } from './history.js';
import { SessionSampler, toHealth } from './sampler.js';
import { resolveMonitorSettings } from './settings.js';

export interface Recorder {
  /** Stop sampling and record how the session ended. Call before the session is removed. */
  stop(): Promise<void>;
}

/** `monitor`: the configuration's monitor section, as resolveRun loaded it; interval and thresholds as aca monitor's. */
export function startRecorder(ctx: Context, engine: Engine, id: string, name: string, monitor: MonitorConfig | undefined): Recorder {
  const { intervalMs, thresholds } = resolveMonitorSettings({}, monitor);
  const sampler = new SessionSampler(id, name, thresholds);
  const history = new HistoryWriter(ctx.env, (line) => ctx.out.warn(line));
  let inFlight: Promise<void> = Promise.resolve();

  const sample = async () => {
    try {
      const [raw, info] = await Promise.all([sampler.read(engine, Math.max(intervalMs, 5_000)), engine.inspectContainer(id)]);
      if (!info.State.Running) return;
      const measured = sampler.measure(raw, toHealth(info.State.Health?.Status), new Date());
      if (measured) await history.append(measured);
    } catch (error) {
      ctx.out.debug(`record ${name}: ${(error as Error).message}`);
    }
  };
  let busy = true;
  inFlight = sample().finally(() => { busy = false; });
  // A tick that finds the last sample still running is skipped: a slow engine must not build up a queue.
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    inFlight = sample().finally(() => { busy = false; });
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      try {
        const state = (await engine.inspectContainer(id)).State;
        if (state.Running) return;
        await history.append({
          session: name,
          time: new Date().toISOString(),
          event: 'exited',
          exitCode: state.ExitCode,
          oomKilled: state.OOMKilled,
          alerts: stopAlerts({ oomKilled: state.OOMKilled, exitCode: state.ExitCode }, sampler.limitBytes),
        });
      } catch (error) {
        ctx.out.debug(`record ${name}: ${(error as Error).message}`);
      }
    },
  };
}
