import { setTimeout as sleep } from 'node:timers/promises';
import {
  FetchIsolationLevels,
  type Message,
  type MessagesStream,
  type MessagesStreamModeValue,
} from '@platformatic/kafka';
import { Backoff } from '../backoff.js';
import type { StageConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KafkaClients } from './client.js';
import { Outage } from './outage.js';
import type { Assignment } from './records.js';
import { GuardedConsumer, type UnreadableBatch } from './unreadable-batches.js';

export type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type BufferStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export interface GroupStreamOptions {
  clients: KafkaClients;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Where a partition without a committed offset starts (`committed` mode), or every partition. */
  mode: MessagesStreamModeValue;
  /** Offsets to start at in `manual` mode, asked for at each start (a restart goes on from where the reader is). */
  offsets?: () => Array<{ topic: string; partition: number; offset: bigint }>;
  readUncommitted?: boolean;
  /** Group liveness; the client's defaults when absent. */
  group?: { sessionTimeoutMs: number; heartbeatIntervalMs: number };
  /** How long Kafka may be away before `onCrash` (the stream is consumed again until then). */
  kafkaOutageMaxMs: number;
  retry: { initialMs: number; maxMs: number };
  /** After each join of the group, with the partitions this member owns now. */
  onJoin?: (assignment: Assignment) => void;
  onMessage: (message: BufferMessage) => void;
  /** After each fetch's records were pushed into the stream (transaction markers move its offsets too). */
  onFetched?: () => void;
  /** A partition's next batch cannot be read: the policy (KAFKA_UNREADABLE_BATCH) was applied to it. */
  onUnreadable?: (batch: UnreadableBatch) => void;
  /** The stream was dropped (a join, an error, a restart asked for): what it gathered is stale. */
  onDropped?: () => void;
  onCrash: (error: Error) => void;
}

/**
 * How a service that works for its group (a stage, a sink) consumes: from the committed offsets,
 * with the configured liveness, riding out Kafka being away for `kafkaOutageMaxMs`.
 */
export function workStream(
  settings: StageConfig,
): Pick<GroupStreamOptions, 'mode' | 'group' | 'kafkaOutageMaxMs' | 'retry'> {
  return {
    mode: 'committed',
    group: settings,
    kafkaOutageMaxMs: settings.kafkaOutageMaxMs,
    retry: { initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs },
  };
}

/**
 * One consumer of a group and the stream of its records, consumed again whenever what was fetched
 * may be stale: after every join of the group (the records carry the coordinator and generation
 * they were fetched with, and fetches in flight could land in the old stream) and after a fetch
 * error (Kafka away: a broker restart, a leader election), with a backoff and for up to
 * `kafkaOutageMaxMs` from the first failure. The stages' exactly-once loop, the sinks' consumer
 * and the readers all stand on it.
 */
export class GroupStream {
  readonly consumer: GuardedConsumer;
  private stream: BufferStream | undefined;
  private joins = 0;
  private stopping = false;
  private readonly outage: Outage;
  private restarting: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private readonly log: Logger;

  constructor(private readonly options: GroupStreamOptions) {
    const { clients, groupId, group } = options;
    this.log = options.logger;
    this.backoff = new Backoff(options.retry.initialMs, options.retry.maxMs);
    this.outage = new Outage(options.kafkaOutageMaxMs);
    this.consumer = new GuardedConsumer(
      {
        ...clients.options(groupId),
        groupId,
        ...(group
          ? {
              sessionTimeout: group.sessionTimeoutMs,
              heartbeatInterval: group.heartbeatIntervalMs,
              rebalanceTimeout: Math.max(60_000, group.sessionTimeoutMs),
            }
          : {}),
      },
      {
        policy: clients.config.unreadableBatch,
        onUnreadable: (batch) => {
          const { error, ...where } = batch;
          this.log.error(
            { err: error, ...where, offset: String(batch.offset), skippedTo: batch.skippedTo?.toString() },
            batch.policy === 'hold'
              ? 'a record batch cannot be read: its partition is held (KAFKA_UNREADABLE_BATCH=hold)'
              : 'a record batch cannot be read: skipped to the next one (KAFKA_UNREADABLE_BATCH=skip)',
          );
          options.onUnreadable?.(batch);
        },
      },
    );
    this.consumer.on(
      'consumer:group:join',
      (payload: { assignments?: Array<{ topic: string; partitions: number[] }> }) =>
        this.onJoin(payload.assignments ?? []),
    );
    // Heartbeat and rejoin failures: the stream's own errors decide whether Kafka is away for long.
    this.consumer.on('error', (error: Error) => this.log.warn({ err: error }, 'consumer group error'));
  }

  /** Joins the group and starts consuming; resolves once the first assignment is in. */
  async start(): Promise<void> {
    await this.consume();
  }

  /** Stops consuming, leaves the group and closes the consumer. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close(true).catch(() => undefined);
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** The stream records come from now (undefined while it is being replaced). */
  current(): BufferStream | undefined {
    return this.stream;
  }

  /** The next offset the stream fetches of a partition. */
  nextOffset(topic: string, partition: number): bigint | undefined {
    return this.stream?.offsetsToFetch.get(`${topic}:${partition}`);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    if (this.stream?.isPaused()) this.stream.resume();
  }

  isPaused(): boolean {
    return this.stream?.isPaused() ?? false;
  }

  private async consume(): Promise<void> {
    const { options } = this;
    const stream = (await this.consumer.consume({
      topics: options.topics,
      mode: options.mode,
      // A new group starts at the log's start; a manual read's partitions not asked for, at the end.
      fallbackMode: options.mode === 'manual' ? 'latest' : 'earliest',
      ...(options.offsets && options.mode === 'manual' ? { offsets: options.offsets() } : {}),
      autocommit: false,
      isolationLevel: options.readUncommitted
        ? FetchIsolationLevels.READ_UNCOMMITTED
        : FetchIsolationLevels.READ_COMMITTED,
      maxWaitTime: 500,
    })) as BufferStream;
    if (this.stopping) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    stream.on('data', (message: BufferMessage) => {
      if (stream === this.stream && !this.stopping) options.onMessage(message);
    });
    stream.on('error', (error: Error) => this.onStreamError(stream, error));
    // Emitted before the fetch's records are pushed: look once they are.
    if (options.onFetched)
      stream.on('fetch', () => setImmediate(() => stream === this.stream && options.onFetched?.()));
    this.outage.over();
    // consume() resolves once the member has joined; had the join event been missed, take it now.
    if (this.joins === 0) this.onJoin(this.consumer.assignments ?? []);
  }

  private onJoin(assignments: ReadonlyArray<{ topic: string; partitions: number[] }>): void {
    this.joins += 1;
    const assignment: Assignment = {};
    for (const { topic, partitions } of assignments)
      assignment[topic] = [...partitions].sort((a, b) => a - b);
    // What was gathered is read anew from the committed offsets by a fresh stream (the old one's
    // fetches in flight cannot land in it).
    if (this.stream && !this.restarting) void this.restart(0);
    this.options.onJoin?.(assignment);
  }

  private onStreamError(stream: BufferStream, error: Error): void {
    if (stream !== this.stream || this.stopping) return;
    if (this.outageTooLong(error)) return;
    this.log.warn({ err: error }, 'consuming failed; the stream starts again from the committed offsets');
    void this.restart();
  }

  /** Counts an outage from its first failure; past `kafkaOutageMaxMs` it gives up (onCrash). */
  private outageTooLong(error: Error): boolean {
    if (!this.outage.tooLong()) return false;
    this.log.error({ err: error }, 'Kafka unreachable for too long');
    this.options.onCrash(error);
    return true;
  }

  /**
   * Drops the stream and consumes anew from the committed offsets, after a backoff unless a delay
   * is given (a join needs none; Kafka away does).
   */
  restart(firstDelayMs?: number): Promise<void> {
    this.restarting ??= (async () => {
      const old = this.stream;
      this.stream = undefined;
      this.options.onDropped?.();
      await old?.close().catch(() => undefined);
      for (let attempt = 0; ; attempt++) {
        if (this.stopping) return;
        const delay = attempt === 0 && firstDelayMs !== undefined ? firstDelayMs : this.backoff.next();
        if (delay > 0) await sleep(delay);
        try {
          await this.consume();
          this.backoff.reset();
          return;
        } catch (error) {
          if (this.outageTooLong(error as Error)) return;
          this.log.warn({ err: errorMessage(error), retryInMs: delay }, 'cannot consume yet; retrying');
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }
}
