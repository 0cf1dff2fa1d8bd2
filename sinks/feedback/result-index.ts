import { Gauge, type Registry } from 'prom-client';
import type { KafkaClients } from '../../runtime/kafka/client.js';
import { WindowReader } from '../../runtime/kafka/window-reader.js';
import type { Logger } from '../../runtime/logger.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import type { EmotionResult } from '../../schemas/index.js';

/** What feedback needs of the result it judges. */
export type IndexedResult = Pick<
  EmotionResult,
  'text' | 'originalText' | 'language' | 'topLabel' | 'core' | 'model' | 'streamId' | 'seq'
>;

export interface ResultIndexOptions {
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  /** Results written since now minus this are indexed. */
  windowMs: number;
  maxResults: number;
  logger: Logger;
  metrics: Registry;
  groupPrefix: string;
}

/**
 * The table side of the feedback ⋈ emotions join: recent results by id, read from the `emotions`
 * topic by a WindowReader (no commits; it starts at "now minus the window" each time). A
 * bounded window, as in any stream-table join: feedback on an older result is kept unmatched.
 */
export class ResultIndex {
  private readonly results = new Map<string, IndexedResult>();
  private readonly reader: WindowReader<EmotionResult>;
  private readonly size: Gauge;
  private isLoaded = false;
  /** Resolves once everything written before the index started (within the window) is in it. */
  readonly ready: Promise<void>;
  private readonly waiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly options: ResultIndexOptions) {
    this.reader = new WindowReader<EmotionResult>({
      ...options,
      onRecord: (result) => this.add(result),
      afterBatch: () => {
        this.size.set(this.results.size);
        for (const wake of this.waiters) wake();
      },
    });
    this.ready = this.reader.loaded.then(() => {
      this.isLoaded = true;
      options.logger.info({ results: this.results.size }, 'result index loaded');
    });
    this.size = new Gauge({
      name: 'feedback_join_indexed_results',
      help: 'Results held by the feedback sink to join feedback with',
      registers: [options.metrics],
    });
  }

  start(): Promise<void> {
    return this.reader.start();
  }

  /** True once the results written before start are indexed (readiness). */
  get loadedAll(): boolean {
    return this.isLoaded;
  }

  get(id: string): IndexedResult | undefined {
    return this.results.get(id);
  }

  /** Waits until every id is indexed or the deadline passes; returns the ids still missing. */
  async waitFor(ids: string[], deadlineMs: number): Promise<string[]> {
    let missing = ids.filter((id) => !this.results.has(id));
    while (missing.length > 0 && Date.now() < deadlineMs && !this.stopping) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, Math.min(1000, deadlineMs - Date.now())));
        this.waiters.add(wake);
      });
      missing = missing.filter((id) => !this.results.has(id));
    }
    return missing;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.waiters) wake();
    await this.reader.stop();
  }

  private add(result: EmotionResult): void {
    const { text, originalText, language, topLabel, core, model, streamId, seq } = result;
    this.results.delete(result.id);
    this.results.set(result.id, { text, originalText, language, topLabel, core, model, streamId, seq });
    // Map keeps insertion order: the first key is the oldest result.
    while (this.results.size > this.options.maxResults) {
      this.results.delete(this.results.keys().next().value!);
    }
  }
}
