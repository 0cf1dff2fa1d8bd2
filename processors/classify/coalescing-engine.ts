import type { ClassifyOptions, EmotionEngine, EmotionScores } from './engine.js';

interface Waiting {
  texts: readonly string[];
  options: ClassifyOptions;
  resolve: (results: EmotionScores[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests that arrive while a model run is in flight join the next run instead of queueing one
 * run each (adaptive batching, as model servers like Triton do): at 16 connections the encoder
 * scores one batch of ~16 texts rather than 16 batches of one. Safe because a text's scores do not
 * depend on its batchmates (the encoder is weight-only quantized: training/encoder/train_encoder.py).
 * One request's bad input fails only that request: a failed combined run is retried one by one.
 */
export class CoalescingEngine implements EmotionEngine {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(
    private readonly inner: EmotionEngine,
    /** Most texts in one combined run; a request larger than this runs alone. */
    private readonly maxTexts = 64,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get languages(): readonly string[] {
    return this.inner.languages;
  }

  run(texts: readonly string[], options: ClassifyOptions = {}): Promise<EmotionScores[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ texts, options, resolve, reject });
      if (!this.running) {
        this.running = true;
        // After the current tick: requests parsed in the same tick share the first run too.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const lang = this.waiting[0]!.options.lang;
      const batch: Waiting[] = [];
      let size = 0;
      // Same language hint only (it is one argument of the run); the rest wait for the next run.
      this.waiting = this.waiting.filter((request) => {
        const fits =
          request.options.lang === lang &&
          (batch.length === 0 || size + request.texts.length <= this.maxTexts);
        if (fits) {
          batch.push(request);
          size += request.texts.length;
        }
        return !fits;
      });
      await this.runTogether(batch);
    }
    this.running = false;
  }

  private async runTogether(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await this.inner.run(only!.texts, only!.options).then(only!.resolve, only!.reject);
      return;
    }
    try {
      const results = await this.inner.run(
        batch.flatMap((request) => request.texts),
        batch[0]!.options,
      );
      let offset = 0;
      for (const request of batch) {
        request.resolve(results.slice(offset, offset + request.texts.length));
        offset += request.texts.length;
      }
    } catch {
      for (const request of batch)
        await this.inner.run(request.texts, request.options).then(request.resolve, request.reject);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
