/**
 * `aca run --record` in the foreground: sample the session in-process while
 * its command runs and append each sample to its history, then how it ended.
 * Loaded only with --record, so a plain run pays nothing for it.
 * (Detached sessions are recorded by `aca monitor`, whenever it watches them.)
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/client.js';
import { loadConfig } from '../config/load.js';
import { DEFAULT_THRESHOLDS, stopAlerts } from './alerts.js';
import { HistoryWriter } from './history.js';
import { SessionSampler, toHealth } from './sampler.js';
import { parseDuration } from '../parse.js';
import { DEFAULT_INTERVAL } from './settings.js';

export interface Recorder {
  /** Stop sampling and record how the session ended. Call before the session is removed. */
  stop(): Promise<void>;
}

export async function startRecorder(ctx: Context, engine: Engine, id: string, name: string, workspace: string): Promise<Recorder> {
  const monitor = (await loadConfig({ workspace, env: ctx.env })).values.monitor ?? {};
  const intervalMs = parseDuration(monitor.interval ?? DEFAULT_INTERVAL, 'monitor.interval');
  const sampler = new SessionSampler(id, name, {
    cpuPercent: monitor.cpuAlert ?? DEFAULT_THRESHOLDS.cpuPercent,
    memoryPercent: monitor.memAlert ?? DEFAULT_THRESHOLDS.memoryPercent,
    after: monitor.alertAfter ?? DEFAULT_THRESHOLDS.after,
  });
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
  inFlight = sample();
  const timer = setInterval(() => { inFlight = inFlight.then(sample); }, intervalMs);
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
