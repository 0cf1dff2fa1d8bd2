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
