import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { untilAvailable } from '../backoff.js';
import { KeyedMutex } from '../concurrency.js';
import type { SinkConfig, StageConfig } from '../config/index.js';
import { errorMessage, UnprocessableRecordError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/admin.js';
import type { KafkaClients } from '../kafka/client.js';
import { deadLetterMessage, headersAsStrings } from '../kafka/dead-letter.js';
import { isKafkaRebalance, isTransientKafkaError } from '../kafka/errors.js';
import { GroupConsumer, type PartitionBatch } from '../kafka/group-consumer.js';
import { RecordProducer } from '../kafka/record-producer.js';
import type { ConsumedRecord, OutgoingRecord } from '../kafka/records.js';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import { inputRecordOf } from '../stage/input-record.js';
import type { InputRecord } from '../stage/types.js';
import { SINK_MOVES, type SinkState, StateMachine } from '../state-machine.js';
import {
  bindRecordSpan,
  endRecordSpans,
  failRecordSpan,
  type RecordSpan,
  startRecordSpan,
  traceLogFields,
  traceWork,
} from '../tracing/record-spans.js';
import { tracingEnabled } from '../tracing/start-tracing.js';
import type { SinkWriter } from './sink-writer.js';

export interface BatchingSinkOptions<T, P> {
  /** Short name, used in metrics, logs and dead-letter headers. */
  name: string;
  groupId: string;
  topic: string;
  schema: object;
  deadLetterTopic: string;
  /** Turns records into items and stores ranges of them (sink-writer.ts). */
  writer: SinkWriter<T, P>;
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  logger: Logger;
  metrics: Registry;
  stage: StageConfig;
  sink: Pick<SinkConfig, 'flushBytes' | 'flushIntervalMs'>;
  /** Called after a range is written and its offsets committed, with the names the writer wrote. */
  onCommitted?: (names: string[]) => void;
}

interface Entry<P> {
  offset: bigint;
  item: P | null;
  bytes: number;
  deadLetter: OutgoingRecord | null;
  /** The record's `process` span (tracing on): from when it is read until its range is committed. */
  span?: RecordSpan | undefined;
}

const NOT_WRITTEN = new Error('not written by this member (its partitions were reassigned)');

/** The spans of buffered entries (none when tracing is off). */
function spansOf(entries: readonly { span?: RecordSpan | undefined }[]): RecordSpan[] {
  return entries.flatMap((entry) => (entry.span ? [entry.span] : []));
}

/** The records of one partition not yet written: from `from` up to the last one buffered. */
interface OpenRange<P> {
  topic: string;
  partition: number;
  from: bigint;
  /** The end chosen for this range earlier (by us, a crashed predecessor or before a replay). */
  end: bigint | undefined;
  entries: Entry<P>[];
  bytes: number;
  firstAtMs: number;
}

/**
 * The one sink loop (issue 20): consumes a topic (read_committed), buffers each partition's records
 * as the writer's items, and hands the writer one offset range of a partition at a time. Offsets are
 * committed only after the range is written, and the writer's writes are idempotent per range
 * (SinkWriter), so a crash at any moment, a rebalance or a replay writes the same range again:
 * each record lands exactly once. A range is cut when a partition's buffer reaches `flushBytes` or
 * its oldest record `flushIntervalMs`; where the writer keeps a ledger, its end is recorded first.
 */
export class BatchingSink<T, P> {
  private readonly consumer: GroupConsumer;
  private readonly admin: KafkaAdmin;
  private producer: RecordProducer | undefined;
  private readonly decoder: AvroDecoder<T>;
  private readonly writer: SinkWriter<T, P>;
  private readonly ranges = new Map<number, OpenRange<P>>();
  private readonly mutex = new KeyedMutex();
  private readonly log: Logger;
  private readonly instanceId = `${hostname()}-${process.pid}`;
  private readonly metrics: SinkMetrics;
  private timer: NodeJS.Timeout | undefined;
  private readonly lifecycle: StateMachine<SinkState>;
  private stopped: Promise<void> | undefined;
  private crashed: ((error: Error) => void) | undefined;
  readonly failed: Promise<never>;

  constructor(private readonly options: BatchingSinkOptions<T, P>) {
    const { kafka, stage, name } = options;
    this.log = options.logger.child({ sink: name });
    this.lifecycle = new StateMachine<SinkState>(`sink ${options.name}`, 'created', SINK_MOVES);
    this.consumer = new GroupConsumer({
      clients: kafka,
      groupId: options.groupId,
      topic: options.topic,
      settings: stage,
      logger: this.log,
      onAssigned: (assigned) => {
        // The consumer fetches every assigned partition from its committed offset again: whatever
        // was buffered is fetched anew, so the open ranges start over from what storage and Kafka say.
        for (const range of this.ranges.values()) endRecordSpans(spansOf(range.entries), NOT_WRITTEN);
        this.ranges.clear();
        this.metrics.buffered.set({ sink: this.options.name }, 0);
        if (!this.lifecycle.is('joining', 'running')) return;
        this.lifecycle.moveTo('running');
        this.log.info({ assigned, groupId: options.groupId }, 'joined consumer group');
      },
      onBatch: (batch) => this.onBatch(batch),
      onCrash: (error) => this.crashed?.(error),
    });
    this.admin = kafka.admin();
    this.decoder = new AvroDecoder<T>(options.registry, options.schema);
    this.writer = options.writer;
    this.metrics = new SinkMetrics(options.metrics);
    this.failed = new Promise<never>((_, reject) => {
      this.crashed = reject;
    });
    this.failed.catch(() => undefined);
  }

  isReady(): boolean {
    return this.lifecycle.is('running');
  }

  /** Past the final flush: retries give up, failures no longer matter. */
  private get stopping(): boolean {
    return this.lifecycle.is('stopping', 'stopped');
  }

  async start(): Promise<void> {
    this.lifecycle.moveTo('starting');
    const { topic, groupId } = this.options;
    // Storage down at start is waited out as it is mid-stream, not a reason to exit.
    await this.untilAvailable('storage', () => this.writer.open());
    const [producer] = await Promise.all([RecordProducer.connect(this.options.kafka), this.admin.connect()]);
    this.producer = producer;
    if (!this.lifecycle.is('starting')) return;
    this.lifecycle.moveTo('joining');
    await this.consumer.run();
    const tick = Math.max(50, Math.min(1000, Math.floor(this.options.sink.flushIntervalMs / 4)));
    this.timer = setInterval(() => this.flushAged(), tick);
    this.log.info({ topic, groupId, target: this.writer.target }, 'sink started');
  }

  /** Writes what is buffered, commits it, and leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.lifecycle.moveTo('draining');
    clearInterval(this.timer);
    // Flush first, while still a member of the group: the commit needs the membership.
    await Promise.allSettled(
      [...this.ranges.values()].map((range) =>
        this.mutex.run(String(range.partition), () => this.flushOnce(range)),
      ),
    );
    this.lifecycle.moveTo('stopping');
    await this.consumer.disconnect();
    await Promise.allSettled([this.producer?.close(), this.admin.disconnect(), this.writer.close()]);
    this.lifecycle.moveTo('stopped');
    this.log.info('sink stopped');
  }

  private async onBatch(batch: PartitionBatch) {
    try {
      await this.mutex.run(String(batch.partition), async () => {
        let range = this.ranges.get(batch.partition) ?? (await this.openRange(batch.topic, batch.partition));
        const last = range.entries.at(-1)?.offset ?? range.from - 1n;
        const fresh = batch.records.filter((message) => BigInt(message.offset) > last);
        if (fresh.length === 0 || !batch.isCurrent()) return;
        const entries = await this.entriesOf(batch.topic, batch.partition, fresh);
        for (const entry of entries) {
          if (range.end !== undefined && entry.offset > range.end) range = await this.flushRange(range);
          if (range.entries.length === 0) range.firstAtMs = Date.now();
          range.entries.push(entry);
          range.bytes += entry.bytes;
          batch.markDone(entry.offset.toString());
          const full =
            range.end !== undefined ? entry.offset >= range.end : range.bytes >= this.options.sink.flushBytes;
          if (full) range = await this.flushRange(range);
        }
        this.updateBuffered();
        this.metrics.lag.set({ sink: this.options.name, partition: String(batch.partition) }, batch.lag());
      });
    } catch (error) {
      if (isKafkaRebalance(error)) throw error;
      // Kafka away (a broker killed while the range's offsets were read or committed): the consumer
      // retries the batch (GroupConsumer); the buffered lines stay and the batch's records already
      // in them are skipped. The sink used to exit here (cluster suite).
      if (isTransientKafkaError(error)) {
        this.log.warn({ err: error, partition: batch.partition }, 'Kafka unreachable; the batch is retried');
        throw error;
      }
      this.log.error({ err: error, partition: batch.partition }, 'sink failed');
      this.crashed?.(error as Error);
    }
  }

  /** A partition's range starts at its committed offset, or at the start of the log for a new group. */
  private async openRange(topic: string, partition: number): Promise<OpenRange<P>> {
    const committed = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
    let from = BigInt(
      committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ??
        '-1',
    );
    if (from < 0n) {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      from = BigInt(offsets.find((p) => p.partition === partition)?.low ?? '0');
    }
    const range: OpenRange<P> = {
      topic,
      partition,
      from,
      // Storage down here is waited out like every other storage call of the sink (the chaos
      // suite's Azurite outage caught a new range opening mid-outage: the sink exited).
      end: await this.findEnd(partition, from),
      entries: [],
      bytes: 0,
      firstAtMs: Date.now(),
    };
    this.ranges.set(partition, range);
    return range;
  }

  /** The end a ledger recorded for the range starting at `from` (none without a ledger). */
  private findEnd(partition: number, from: bigint): Promise<bigint | undefined> {
    const { ledger } = this.writer;
    if (!ledger) return Promise.resolve(undefined);
    return this.untilAvailable('read range', () => ledger.find(partition, from));
  }

  private async entriesOf(
    topic: string,
    partition: number,
    messages: readonly ConsumedRecord[],
  ): Promise<Entry<P>[]> {
    const context = { stage: this.options.name, instanceId: this.instanceId, topic, partition };
    const deadLetter = (
      message: ConsumedRecord,
      error: Error,
      phase: 'VALUE_CONVERTER' | 'TRANSFORMATION',
      span: RecordSpan | undefined,
    ) => {
      failRecordSpan(span, error);
      this.metrics.deadLettered.inc({ sink: this.options.name, reason: error.name });
      this.log.warn(
        { partition, offset: message.offset, err: error, ...traceLogFields(span) },
        'record dead-lettered',
      );
      return deadLetterMessage(context, message, error, phase);
    };
    const values = await this.untilAvailable('decode', () =>
      this.decoder.decodeAll(messages.map((message) => message.value)),
    );
    const decoded = messages.map((message, i) => {
      const value = values[i];
      return value instanceof UnprocessableRecordError ? { message, error: value } : { message, value };
    });
    const inputs = decoded.map((item) =>
      'value' in item ? inputRecordOf(topic, partition, item.message, item.value as T) : undefined,
    );
    // After decoding, from the headers the record already has (as the stage's BatchProcessor does).
    const { name, groupId } = this.options;
    const spans = tracingEnabled()
      ? decoded.map((item, i) =>
          startRecordSpan(
            {
              topic,
              partition,
              offset: item.message.offset,
              headers: inputs[i]?.headers ?? headersAsStrings(item.message.headers),
            },
            { group: groupId, name },
          ),
        )
      : undefined;
    const records: InputRecord<T>[] = [];
    for (const [i, record] of inputs.entries()) {
      if (!record) continue;
      bindRecordSpan(record, spans?.[i]);
      records.push(record);
    }
    const prepared =
      records.length > 0 ? await traceWork(records, 'prepare', () => this.prepare(records)) : [];
    let next = 0;
    return decoded.map((entry, i) => {
      const offset = BigInt(entry.message.offset);
      const span = spans?.[i];
      const failed = (error: Error, phase: 'VALUE_CONVERTER' | 'TRANSFORMATION') => ({
        offset,
        item: null,
        bytes: 0,
        deadLetter: deadLetter(entry.message, error, phase, span),
        span,
      });
      if ('error' in entry) return failed(entry.error!, 'VALUE_CONVERTER');
      const item = prepared[next++]!;
      if (item instanceof Error) return failed(item, 'TRANSFORMATION');
      return { offset, item, bytes: item === null ? 0 : this.writer.sizeOf(item), deadLetter: null, span };
    });
  }

  /** Prepares a batch; a record the writer rejects is found by preparing the records one by one. */
  private async prepare(records: InputRecord<T>[]): Promise<Array<P | null | Error>> {
    try {
      const items = await this.untilAvailable('prepare', () => this.writer.prepare(records));
      if (items.length !== records.length)
        throw new Error(`writer prepared ${items.length} items for ${records.length} records`);
      return items;
    } catch (error) {
      if (records.length === 1) return [error instanceof Error ? error : new Error(String(error))];
      const items: Array<P | null | Error> = [];
      for (const record of records) items.push(...(await this.prepare([record])));
      return items;
    }
  }

  /** Writes the range, sends its dead letters and commits; returns the next range. */
  private async flushRange(range: OpenRange<P>): Promise<OpenRange<P>> {
    let current = range;
    // A range recorded earlier may end inside what is buffered: cut as often as it takes.
    for (;;) {
      const next = await this.flushOnce(current);
      if (next === current) return current;
      current = next;
      const last = current.entries.at(-1)?.offset;
      if (last === undefined || current.end === undefined || last < current.end) return current;
    }
  }

  /**
   * One range to storage and its offsets to Kafka. Returns the same range when it must wait for
   * more records (its recorded end lies ahead), else the range that follows it.
   */
  private async flushOnce(range: OpenRange<P>): Promise<OpenRange<P>> {
    if (this.ranges.get(range.partition) !== range || range.entries.length === 0) return range;
    const started = performance.now();
    const last = range.entries.at(-1)!.offset;
    let end = range.end ?? last;
    const { ledger } = this.writer;
    const hasItems = range.entries.some((entry) => entry.item !== null && entry.offset <= end);
    if (ledger && range.end === undefined && hasItems) {
      end = await this.untilAvailable('record range', () => ledger.claim(range.partition, range.from, end));
      range.end = end;
    }
    // The recorded end lies ahead: wait for its records (when stopping, the next owner will).
    if (end > last) return range;
    const included = range.entries.filter((entry) => entry.offset <= end);
    const items = included.flatMap((entry) =>
      entry.item === null ? [] : [{ offset: entry.offset, item: entry.item }],
    );
    const written =
      items.length === 0
        ? { names: [], bytes: 0 }
        : await this.untilAvailable('write', () =>
            this.writer.write(
              { topic: range.topic, partition: range.partition, from: range.from, to: end },
              items,
            ),
          );
    const deadLetters = included.flatMap((entry) => (entry.deadLetter ? [entry.deadLetter] : []));
    if (deadLetters.length > 0) {
      await this.untilAvailable('dead-letter', () =>
        this.producer!.send(this.options.deadLetterTopic, deadLetters),
      );
    }
    await this.consumer.commit(range.topic, range.partition, end + 1n);
    endRecordSpans(spansOf(included));

    const { name } = this.options;
    this.metrics.records.inc({ sink: name }, included.length);
    this.metrics.files.inc({ sink: name }, written.names.length);
    this.metrics.bytes.inc({ sink: name }, written.bytes);
    this.metrics.flushDuration.observe({ sink: name }, (performance.now() - started) / 1000);
    this.metrics.lastCommit.set({ sink: name }, Date.now() / 1000);
    this.log.debug(
      {
        partition: range.partition,
        from: String(range.from),
        to: String(end),
        written: written.names.length,
      },
      'range committed',
    );
    this.options.onCommitted?.(written.names);

    const remaining = range.entries.filter((entry) => entry.offset > end);
    const from = end + 1n;
    const next: OpenRange<P> = {
      topic: range.topic,
      partition: range.partition,
      from,
      end: await this.findEnd(range.partition, from),
      entries: remaining,
      bytes: remaining.reduce((sum, entry) => sum + entry.bytes, 0),
      firstAtMs: Date.now(),
    };
    this.ranges.set(range.partition, next);
    this.updateBuffered();
    return next;
  }

  /** Flushes ranges whose oldest line has waited long enough (and whose end is not fixed ahead). */
  private flushAged(): void {
    const now = Date.now();
    for (const range of this.ranges.values()) {
      if (range.entries.length === 0 || range.end !== undefined) continue;
      if (now - range.firstAtMs < this.options.sink.flushIntervalMs) continue;
      void this.mutex
        .run(String(range.partition), () => this.flushRange(range))
        .catch((error) => {
          if (isKafkaRebalance(error) || this.stopping) return;
          // Kafka away: the range stays buffered and the next tick flushes it again (writes are
          // idempotent per range, so writing it again is harmless).
          if (isTransientKafkaError(error)) {
            this.log.warn(
              { err: error, partition: range.partition },
              'Kafka unreachable; the timed flush is retried',
            );
            return;
          }
          this.log.error({ err: error, partition: range.partition }, 'timed flush failed');
          this.crashed?.(error as Error);
        });
    }
  }

  /** Retries an operation while what it needs is down (storage, registry); other errors propagate. */
  private untilAvailable<R>(what: string, operation: () => Promise<R>): Promise<R> {
    return untilAvailable(operation, {
      initialMs: this.options.stage.retryInitialMs,
      maxMs: this.options.stage.retryMaxMs,
      stopping: () => this.stopping,
      onRetry: (error, waitMs) => {
        this.metrics.retries.inc({ sink: this.options.name, reason: what });
        this.log.warn({ err: errorMessage(error), waitMs, what }, 'not available; retrying');
      },
    });
  }

  private updateBuffered(): void {
    let records = 0;
    for (const range of this.ranges.values()) records += range.entries.length;
    this.metrics.buffered.set({ sink: this.options.name }, records);
  }
}

class SinkMetrics {
  readonly records: Counter<'sink'>;
  readonly files: Counter<'sink'>;
  readonly bytes: Counter<'sink'>;
  readonly deadLettered: Counter<'sink' | 'reason'>;
  readonly retries: Counter<'sink' | 'reason'>;
  readonly flushDuration: Histogram<'sink'>;
  readonly buffered: Gauge<'sink'>;
  readonly lastCommit: Gauge<'sink'>;
  readonly lag: Gauge<'sink' | 'partition'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['sink'] as const;
    this.records = new Counter({
      name: 'sink_records_total',
      help: 'Records written and committed',
      labelNames,
      registers,
    });
    this.files = new Counter({
      name: 'sink_files_written_total',
      help: 'Files (or other named objects, e.g. table writes) the writer wrote',
      labelNames,
      registers,
    });
    this.bytes = new Counter({
      name: 'sink_bytes_written_total',
      help: 'Bytes written',
      labelNames,
      registers,
    });
    this.deadLettered = new Counter({
      name: 'sink_dlq_records_total',
      help: 'Records sent to the dead-letter topic',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'sink_retries_total',
      help: 'Waits for an unavailable dependency (storage, registry, join)',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.flushDuration = new Histogram({
      name: 'sink_flush_duration_seconds',
      help: 'Time to write a range and commit its offsets',
      labelNames,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.buffered = new Gauge({
      name: 'sink_buffered_records',
      help: 'Records consumed but not yet written',
      labelNames,
      registers,
    });
    this.lastCommit = new Gauge({
      name: 'sink_last_commit_timestamp_seconds',
      help: 'When the sink last committed a range',
      labelNames,
      registers,
    });
    this.lag = new Gauge({
      name: 'sink_consumer_lag',
      help: 'Records behind the end of the partition at the last batch',
      labelNames: ['sink', 'partition'],
      registers,
    });
  }
}
