/**
 * What an image build shows while it runs. On a terminal: a spinner with the
 * current step and, once a RUN step has taken a while, the last line of its
 * output. Elsewhere (a CI log, a pipe): every step and every line of RUN
 * output on stderr, with the time since the build began, so the log shows
 * where the time went. Nothing with -q.
 */
import type { Context } from './context.js';

export interface BuildEvents {
  onStep: (step: string) => void;
  onOutput: (line: string) => void;
}

/** A RUN step older than this shows its last output line on the spinner. */
const LONG_STEP_MS = 3000;

export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Cut a line to the terminal's width, so the spinner never wraps (wrapped lines are left behind on redraw). */
export function fit(text: string, columns: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= columns ? line : `${line.slice(0, Math.max(0, columns - 1))}…`;
}

export async function showBuild<T>(ctx: Context, title: string, work: (events: BuildEvents) => Promise<T>): Promise<T> {
  const started = Date.now();
  if (!ctx.out.progressOnTerminal) {
    const log = (line: string) => ctx.out.info(`[${elapsed(Date.now() - started).padStart(6)}] ${line}`);
    log(`${title}`);
    let inRun = false;
    try {
      const result = await work({
        onStep: (step) => { inRun = /^\S+ \d+\/\d+ ?: ?RUN /i.test(step); log(step); },
        onOutput: (line) => { if (inRun) log(`  ${line}`); else ctx.out.debug(line); },
      });
      log(`${title}: done`);
      return result;
    } catch (error) {
      log(`${title}: failed`);
      throw error;
    }
  }
  const spinner = await ctx.out.spinner(title);
  const columns = () => Math.max(20, ((ctx.out.stderr as { columns?: number }).columns ?? 80) - 3);
  let step = '';
  let stepStarted = started;
  let last = '';
  const render = () => {
    const head = fit(`${title} (${elapsed(Date.now() - started)})${step ? `: ${step}` : ''}`, columns());
    const showLast = last && /: ?RUN /i.test(step) && Date.now() - stepStarted > LONG_STEP_MS;
    spinner.text = showLast ? `${head}\n  ${fit(last, columns() - 2)}` : head;
  };
  const timer = setInterval(render, 1000);
  try {
    const result = await work({
      onStep: (text) => { step = text; stepStarted = Date.now(); last = ''; render(); },
      onOutput: (line) => { if (line.trim()) last = line; },
    });
    spinner.succeed(`${title}: done in ${elapsed(Date.now() - started)}`);
    return result;
  } catch (error) {
    spinner.fail(`${title}: failed after ${elapsed(Date.now() - started)}`);
    throw error;
  } finally {
    clearInterval(timer);
  }
}

/** A spinner on a terminal, plain lines elsewhere, for work that reports a line of progress now and then (pulls). */
export async function withProgress<T>(ctx: Context, title: string, work: (update: (text: string) => void) => Promise<T>): Promise<T> {
  const spinner = await ctx.out.spinner(title);
  try {
    const result = await work((text) => { spinner.text = `${title}: ${text}`; });
    spinner.succeed(`${title}: done`);
    return result;
  } catch (error) {
    spinner.fail(`${title}: failed`);
    throw error;
  }
}
