/**
 * setTimeout for any delay. Node's timers hold a signed 32-bit delay: 2^31 ms
 * (about 24.8 days) or more fires after 1 ms, so a `--timeout 600h` would stop
 * the command at once. Longer delays are chained in steps below that bound.
 */

/** The longest delay one Node timer keeps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

export function setLongTimeout(callback: () => void, delayMs: number): LongTimer {
  let timer: NodeJS.Timeout;
  let cancelled = false;
  const arm = (remaining: number) => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cancelled) return;
      if (remaining > step) arm(remaining - step);
      else callback();
    }, step);
  };
  arm(Math.max(0, delayMs));
  return {
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
