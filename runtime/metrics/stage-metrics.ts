import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Seconds, from sub-millisecond batches up to the minute a paused stage may take to recover. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The metrics every exactly-once stage reports, labelled by stage name. */
export class StageMetrics {
  readonly recordsIn: Counter<'stage' | 'topic'>;
  readonly recordsOut: Counter<'stage' | 'topic'>;
  readonly deadLettered: Counter<'stage' | 'topic' | 'reason'>;
  readonly retries: Counter<'stage' | 'reason'>;
  readonly transactions: Counter<'stage' | 'outcome'>;
  readonly batchDuration: Histogram<'stage'>;
  readonly endToEndLatency: Histogram<'stage'>;
  readonly consumerLag: Gauge<'stage' | 'topic' | 'partition'>;
  readonly pausedPartitions: Gauge<'stage'>;
  readonly unreadableBatches: Counter<'stage' | 'topic' | 'partition' | 'policy'>;
  readonly heldPartitions: Gauge<'stage'>;
  readonly lastProgress: Gauge<'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsIn = new Counter({
      name: 'stage_records_in_total',
      help: 'Records consumed and committed by the stage',
      labelNames: ['stage', 'topic'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'stage_records_out_total',
      help: 'Records produced by the stage in committed transactions',
      labelNames: ['stage', 'topic'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'stage_dlq_records_total',
      help: 'Records sent to the dead-letter topic',
      labelNames: ['stage', 'topic', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'stage_retries_total',
      help: 'Batches paused and retried because something they needed was unavailable',
      labelNames: ['stage', 'reason'],
      registers,
    });
    this.transactions = new Counter({
      name: 'stage_transactions_total',
      help: 'Kafka transactions by outcome (committed, aborted, fenced)',
      labelNames: ['stage', 'outcome'],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'stage_batch_duration_seconds',
      help: 'Time to process and commit one batch',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.endToEndLatency = new Histogram({
      name: 'stage_end_to_end_latency_seconds',
      help: 'Time from the first trace stamp of a record (when it entered the system) to its output commit',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'stage_consumer_lag_records',
      help: 'Records between the last consumed offset and the end of the partition',
      labelNames: ['stage', 'topic', 'partition'],
      registers,
    });
    this.pausedPartitions = new Gauge({
      name: 'stage_paused_partitions',
      help: 'Input partitions paused while waiting to retry',
      labelNames: ['stage'],
      registers,
    });
    this.unreadableBatches = new Counter({
      name: 'stage_unreadable_batches_total',
      help: 'Input record batches that could not be read at all, by the policy applied (KAFKA_UNREADABLE_BATCH)',
      labelNames: ['stage', 'topic', 'partition', 'policy'],
      registers,
    });
    this.heldPartitions = new Gauge({
      name: 'stage_held_partitions',
      help: 'Input partitions no longer fetched because their next batch cannot be read (policy hold)',
      labelNames: ['stage'],
      registers,
    });
    this.lastProgress = new Gauge({
      name: 'stage_last_progress_timestamp_seconds',
      help: 'Unix time of the last committed batch',
      labelNames: ['stage'],
      registers,
    });
  }
}
