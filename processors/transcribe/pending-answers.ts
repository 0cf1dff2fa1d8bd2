import { RetryableError } from '../../runtime/errors.js';

interface Waiting<T> {
  resolve: (answer: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The requests a resident recogniser process (pocketsphinx_batch, the faster-whisper worker) has
 * not answered yet, by id. One that waits too long, or the process dying, fails them all as
 * retryable: the stage retries its batch with a new process, in a new transaction.
 */
export class PendingAnswers<T> {
  private readonly waiting = new Map<string, Waiting<T>>();
  private next = 0;
  private failure: Error | undefined;

  constructor(
    private readonly options: {
      /** What the process is called in errors. */
      name: string;
      timeoutMs: number;
      /** Called once, with the reason, when the first failure ends the process's usefulness. */
      onFail: (error: Error) => void;
    },
  ) {}

  /** The error that ended it, or undefined while it still answers. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** A fresh id and the promise of its answer (rejected if the process dies or stays silent). */
  expect(prefix: string): { id: string; answer: Promise<T> } {
    const id = `${prefix}${this.next++}`;
    if (this.failure) return { id, answer: Promise.reject(this.failure) };
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            new RetryableError(
              `${this.options.name} gave no answer for ${id} in ${this.options.timeoutMs} ms`,
            ),
          ),
        this.options.timeoutMs,
      );
      this.waiting.set(id, { resolve, reject, timer });
    });
    return { id, answer };
  }

  /** Delivers the answer to request `id`; an unknown id (already failed) is ignored. */
  settle(id: string, answer: T): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(id);
    waiting.resolve(answer);
  }

  /** Fails everything waiting, and everything asked from now on. */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
    this.options.onFail(error);
  }
}
