import { Consumer, type ConsumerOptions } from '@platformatic/kafka';
import type { KafkaConfig } from '../config/index.js';
import {
  type BufferFetchOptions,
  type FetchCallback,
  type FetchResponse,
  ReadCommittedConsumer,
} from './aborted-transactions.js';
import { type ErrorNode, errorTree, hasErrorType } from './errors.js';

type FetchTopics = BufferFetchOptions['topics'];

/**
 * What to do with a partition whose next record batch cannot be read at all (a corrupt batch, a
 * codec from a future Kafka), as Kafka Streams' deserialization exception handler decides for a
 * record: `hold` stops fetching that partition (its records wait, nothing is lost, an operator
 * decides) and `skip` goes on after the batch (its records are lost, the offsets logged). Either way
 * the other partitions keep flowing.
 */
export type UnreadableBatchPolicy = KafkaConfig['unreadableBatch'];

export interface UnreadableBatch {
  topic: string;
  partition: number;
  /** Where the batch that cannot be read starts: every record before it is read. */
  offset: bigint;
  policy: UnreadableBatchPolicy;
  /** With `skip`, the first offset read after the batch (what was skipped: [offset, skippedTo)). */
  skippedTo?: bigint;
  error: unknown;
}

/** The client's own errors for a batch it cannot parse. */
const PARSE_CODES = new Set([
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_FORMAT',
  'PLT_KFK_OUT_OF_BOUNDS',
]);

/**
 * A record batch that reached the client and could not be parsed: the client's unsupported
 * compression or format, or what a decompressor throws on bytes that are not what they claim (a
 * WebAssembly RuntimeError from lz4 or snappy, a zlib error from gzip or zstd). Not Kafka being away,
 * not a broker's refusal (those carry an `apiId`), not a socket's errno, not a misuse of the client.
 */
function isParseFailure(node: ErrorNode): boolean {
  const code = typeof node.code === 'string' ? node.code : undefined;
  if (code && PARSE_CODES.has(code)) return true;
  if (code?.startsWith('PLT_KFK_') || node.apiId !== undefined || (code && /^E[A-Z]+$/.test(code)))
    return false;
  return node instanceof Error && !(node instanceof AggregateError);
}

/** True when the error (or one the client's retries gathered in it) is a batch that cannot be parsed. */
export function isUnreadableBatchError(error: unknown): boolean {
  return errorTree(error).some(isParseFailure);
}

const EMPTY_FETCH: FetchResponse = {
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [],
  nodeEndpoints: [],
} as FetchResponse;

/**
 * A consumer whose fetches survive a batch that cannot be read. The client parses a whole Fetch
 * response at once, so one such batch fails the fetch of every partition on that broker, again on
 * every retry: a stage's stream died and restarted forever and no partition led by that broker moved
 * (kafkajs crashed the stage instead, in a loop). Here a fetch that fails that way is split into one
 * fetch per partition to find the batch, the policy is applied to its partition alone, and the
 * fetch is answered for the others. The stream above never sees the failure. Its read_committed
 * fetches hold no aborted records (ReadCommittedConsumer).
 */
export class GuardedConsumer extends ReadCommittedConsumer {
  /** Per `topicId:partition`: the unreadable batch found, with where a skipped partition goes on. */
  private readonly unreadable = new Map<string, UnreadableBatch>();
  /**
   * Fetches one partition to look at it, without the client's retries: it retries any error that
   * does not say it cannot be retried, a decompressor's included (12 times, about 15 s, before the
   * stream's fetch above reports one).
   */
  private readonly prober: Consumer<Buffer, Buffer, Buffer, Buffer>;

  constructor(
    options: ConsumerOptions<Buffer, Buffer, Buffer, Buffer>,
    private readonly guard: { policy: UnreadableBatchPolicy; onUnreadable: (batch: UnreadableBatch) => void },
  ) {
    super(options);
    this.prober = new Consumer({ ...options, clientId: `${options.clientId}-prober`, retries: 0 });
  }

  override async close(force?: boolean): Promise<void>;
  override close(
    force: boolean | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): void;
  override close(force?: unknown, callback?: unknown): undefined | Promise<void> {
    const closing = Promise.all([
      this.prober.close(true).catch(() => undefined),
      super.close(force as boolean),
    ]).then(() => undefined);
    if (typeof force === 'function' || typeof callback === 'function') {
      const done = (typeof force === 'function' ? force : callback) as (error?: Error | null) => void;
      closing.then(() => done(null), done);
      return;
    }
    return closing;
  }

  /** The partitions held by the `hold` policy. */
  heldPartitions(): UnreadableBatch[] {
    return [...this.unreadable.values()].filter((batch) => batch.policy === 'hold');
  }

  protected override fetchThen(options: BufferFetchOptions, callback: FetchCallback): void {
    const topics = this.guarded(options.topics);
    if (topics.length === 0) {
      // Every partition asked for is held: answer after the fetch's wait, as an empty fetch would.
      setTimeout(() => callback(null, EMPTY_FETCH), options.maxWaitTime ?? 500);
      return;
    }
    super.fetchThen({ ...options, topics }, (error: Error | null, response?: FetchResponse) => {
      if (!error || !isUnreadableBatchError(error)) {
        callback(error, response);
        return;
      }
      this.isolate({ ...options, topics }).then(
        (found) => (found ? this.fetchThen(options, callback) : callback(error)),
        (probeError: Error) => callback(probeError),
      );
    });
  }

  /**
   * The request as the unreadable batches found so far allow: a partition still before its
   * unreadable batch is fetched one batch at a time (the broker returns at least one whole batch,
   * KIP-74, and here no more), so every record before the batch is read; at the batch, a held
   * partition is left out and a skipped one asked for after it.
   */
  private guarded(topics: FetchTopics): FetchTopics {
    return topics.flatMap((topic) => {
      const partitions = topic.partitions.flatMap((partition) => {
        const key = `${topic.topicId}:${partition.partition}`;
        const unreadable = this.unreadable.get(key);
        if (!unreadable) return [partition];
        if (partition.fetchOffset < unreadable.offset) return [{ ...partition, partitionMaxBytes: 1 }];
        if (unreadable.skippedTo === undefined) return [];
        if (partition.fetchOffset >= unreadable.skippedTo) {
          this.unreadable.delete(key);
          return [partition];
        }
        return [{ ...partition, fetchOffset: unreadable.skippedTo }];
      });
      return partitions.length > 0 ? [{ ...topic, partitions }] : [];
    });
  }

  /**
   * Fetches each partition of a failed request on its own to find the unreadable batch, and
   * applies the policy to it. True if one was found.
   */
  private async isolate(request: BufferFetchOptions): Promise<boolean> {
    let found = false;
    const names = await this.topicNames();
    // The prober's own connections (not the stream's): the stream's fetch session stays as it is.
    const { connectionPool: _stream, ...probe } = request;
    for (const topic of request.topics) {
      for (const partition of topic.partitions) {
        const fetchFrom = (offset: bigint, partitionMaxBytes: number) =>
          this.probe({
            ...probe,
            maxWaitTime: 10,
            topics: [
              {
                topicId: topic.topicId,
                partitions: [{ ...partition, fetchOffset: offset, partitionMaxBytes }],
              },
            ],
          });
        if (!('error' in (await fetchFrom(partition.fetchOffset, partition.partitionMaxBytes)))) continue;
        // The batch is somewhere in what a fetch from there returns: walk it a batch at a time.
        let offset = partition.fetchOffset;
        let error: unknown;
        for (;;) {
          const read = await fetchFrom(offset, 1);
          if ('error' in read) {
            error = read.error;
            break;
          }
          if (read.next === undefined) break;
          offset = read.next;
        }
        if (error === undefined) continue;
        found = true;
        const name = names.get(topic.topicId) ?? topic.topicId;
        const unreadable: UnreadableBatch = {
          topic: name,
          partition: partition.partition,
          offset,
          policy: this.guard.policy,
          error,
        };
        if (this.guard.policy === 'skip') {
          const end = (await this.listOffsets({ topics: [name] })).get(name)?.[partition.partition] ?? 0n;
          unreadable.skippedTo = await firstReadable(
            offset,
            end,
            async (at) => !('error' in (await fetchFrom(at, 1))),
          );
        }
        this.unreadable.set(`${topic.topicId}:${partition.partition}`, unreadable);
        this.guard.onUnreadable(unreadable);
      }
    }
    return found;
  }

  /**
   * One fetch of one partition by the prober: the offset after its last batch (none when it read
   * nothing), or the error of a batch it cannot read. A fetch session gone stale is asked again
   * (the client then drops the session and fetches in full).
   */
  private async probe(request: BufferFetchOptions): Promise<{ next?: bigint } | { error: unknown }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.prober.fetch(request);
        const asked = request.topics[0]!.partitions[0]!.partition;
        const batches =
          response.responses.flatMap((t) => t.partitions).find((p) => p.partitionIndex === asked)?.records ??
          [];
        const last = batches.at(-1);
        return last ? { next: last.firstOffset + BigInt(last.lastOffsetDelta) + 1n } : {};
      } catch (error) {
        if (isUnreadableBatchError(error)) return { error };
        const sessionGone = hasErrorType(error, 'INVALID_FETCH_SESSION_EPOCH', 'FETCH_SESSION_ID_NOT_FOUND');
        if (!sessionGone || attempt >= 3) throw error;
      }
    }
  }

  private async topicNames(): Promise<Map<string, string>> {
    const metadata = await this.metadata({ topics: this.topics.current });
    return new Map([...metadata.topics].map(([name, topic]) => [topic.id, name]));
  }
}

/**
 * The first offset after `bad` whose fetch reads (the broker answers a fetch from inside a batch
 * with the whole batch, so that is the offset after the unreadable batch), by doubling steps and
 * then halving; `end` (the partition's end) when nothing after it reads.
 */
export async function firstReadable(
  bad: bigint,
  end: bigint,
  readable: (offset: bigint) => Promise<boolean>,
): Promise<bigint> {
  let unreadable = bad;
  let good = end;
  for (let step = 1n; unreadable + step < end; step *= 2n) {
    if (await readable(unreadable + step)) {
      good = unreadable + step;
      break;
    }
    unreadable += step;
  }
  while (good - unreadable > 1n) {
    const middle = (unreadable + good) / 2n;
    if (await readable(middle)) good = middle;
    else unreadable = middle;
  }
  return good;
}
