import type { GroupStreamOptions } from './group-stream.js';
import { type BufferMessage, GroupStream } from './group-stream.js';
import { toPartitionRecord } from './platformatic-records.js';
import type { PartitionRecord } from './records.js';

/** Records waiting for their handler before the stream pauses, and when it goes on again. */
const PAUSE_AT = 2000;
const RESUME_AT = 200;

export interface RecordPumpOptions
  extends Omit<
    GroupStreamOptions,
    'onMessage' | 'offsets' | 'onDropped' | 'onFetched' | 'onCrash' | 'kafkaOutageMaxMs' | 'retry'
  > {
  /** In `manual` mode, where each partition of each topic starts. */
  starts?: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>;
  /** Each record, one after another in the order fetched. */
  onRecord: (topic: string, record: PartitionRecord) => Promise<void> | void;
  /** A handler failed: the record is skipped (readers only look; their handlers count failures). */
  onRecordError?: (error: unknown, topic: string, record: PartitionRecord) => void;
  /** Whenever every fetched record is handled (a check of `fetchedTo` is exact then). */
  onIdle?: () => void;
  onCrash?: (error: Error) => void;
}

/**
 * Reads topics for a process that looks at records rather than working for a group (the live
 * feed, a range read, the feedback join's table): a consumer in a group of its own, committing
 * nothing, handing each record to an async handler one after another, pausing the stream while
 * the handler falls behind. Kafka being away is ridden out (GroupStream); a restart goes on from
 * the records already handled.
 */
export class RecordPump {
  private readonly group: GroupStream;
  /** Per `topic:partition`, the offset after the last record handled. */
  private readonly positions = new Map<string, bigint>();
  private waiting = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: RecordPumpOptions) {
    for (const { topic, partition, offset } of options.starts ?? [])
      this.positions.set(`${topic}:${partition}`, offset);
    this.group = new GroupStream({
      ...options,
      // A reader has no deadline: it keeps asking while Kafka is away.
      kafkaOutageMaxMs: Number.POSITIVE_INFINITY,
      retry: { initialMs: 200, maxMs: 5000 },
      offsets: () =>
        [...this.positions].map(([key, offset]) => {
          const at = key.lastIndexOf(':');
          return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset };
        }),
      onMessage: (message) => this.onMessage(message),
      onFetched: () => this.checkIdle(),
      onCrash: options.onCrash ?? (() => undefined),
    });
  }

  start(): Promise<void> {
    return this.group.start();
  }

  async stop(): Promise<void> {
    await this.group.stop();
    await this.chain;
  }

  /** The next offset fetched of a partition: past transaction markers too, unlike the records. */
  fetchedTo(topic: string, partition: number): bigint | undefined {
    return this.group.nextOffset(topic, partition);
  }

  private onMessage(message: BufferMessage): void {
    const record = toPartitionRecord(message);
    const { topic } = message;
    const key = `${topic}:${record.partition}`;
    // A restarted stream may hand over again what was handled.
    const position = this.positions.get(key);
    if (position !== undefined && message.offset < position && this.options.mode === 'manual') return;
    this.positions.set(key, message.offset + 1n);
    if (++this.waiting >= PAUSE_AT) this.group.pause();
    this.chain = this.chain.then(async () => {
      if (!this.group.isStopping) {
        try {
          await this.options.onRecord(topic, record);
        } catch (error) {
          this.options.onRecordError?.(error, topic, record);
        }
      }
      this.waiting -= 1;
      if (this.waiting <= RESUME_AT) this.group.resume();
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.waiting === 0 && (this.group.current()?.readableLength ?? 0) === 0) this.options.onIdle?.();
  }
}
