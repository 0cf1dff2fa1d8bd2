import { Histogram, type Registry } from 'prom-client';
import { BoundedLabelCounter } from '../../runtime/metrics/bounded-label-counter.js';
import type { EmotionResult } from '../../schemas/index.js';

/**
 * What the classify stage reports beside the stage loop's metrics: model inference time, and
 * results per stream and top emotion (the series the domain alert watches), with at most
 * `maxStreams` streams at a time so that stream ids cannot blow up the series count.
 */
export class ClassifyMetrics {
  private readonly inference: Histogram<'stage' | 'model'>;
  private readonly emotions: BoundedLabelCounter<'stream' | 'emotion'>;

  constructor(
    registry: Registry,
    private readonly stage: string,
    maxStreams: number,
  ) {
    this.inference = new Histogram({
      name: 'stage_inference_duration_seconds',
      help: 'Time the model took for one batch of texts',
      labelNames: ['stage', 'model'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.emotions = new BoundedLabelCounter({
      name: 'emotion_results_total',
      help: 'Emotion results by stream and top label (the least recently seen streams are dropped past the limit)',
      labelNames: ['stream', 'emotion'],
      boundedLabel: 'stream',
      maxValues: maxStreams,
      registry,
    });
  }

  async timeInference<T>(model: string, work: () => Promise<T>): Promise<T> {
    const end = this.inference.startTimer({ stage: this.stage, model });
    try {
      return await work();
    } finally {
      end();
    }
  }

  countResult(result: EmotionResult): void {
    this.emotions.inc({ stream: result.streamId, emotion: result.topLabel });
  }
}
