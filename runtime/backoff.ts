import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from './errors.js';

/** Exponential backoff with jitter, so paused stage instances do not all retry in step. */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt; each call doubles it up to the maximum. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempts);
    this.attempts += 1;
    const jitter = 0.8 + 0.4 * this.random();
    return Math.round(Math.min(this.maxMs, base * jitter));
  }

  get attempt(): number {
    return this.attempts;
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** The wait a busy dependency asked for (e.g. WriterBusyError's retryAfterMs), if it named one. */
function retryAfterOf(error: unknown): number | undefined {
  const wait = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? wait : undefined;
}

/**
 * Runs `operation` until it succeeds, waiting with backoff while it fails with a RetryableError
 * (a dependency that is down), or as long as the error's `retryAfterMs` says (backpressure); any
 * other error, or one once `stopping()` is true, propagates.
 */
export async function untilAvailable<R>(
  operation: () => Promise<R>,
  options: {
    initialMs: number;
    maxMs: number;
    stopping: () => boolean;
    onRetry: (error: unknown, waitMs: number) => void;
  },
): Promise<R> {
  const backoff = new Backoff(options.initialMs, options.maxMs);
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || options.stopping()) throw error;
      const waitMs = retryAfterOf(error) ?? backoff.next();
      options.onRetry(error, waitMs);
      await sleep(waitMs);
    }
  }
}
