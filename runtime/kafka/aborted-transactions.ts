import { Consumer, type ConsumerOptions, FetchIsolationLevels, type FetchOptions } from '@platformatic/kafka';

/** What a fetch answers (the client's FetchResponse, taken from its fetch). */
export type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
export type BufferFetchOptions = FetchOptions<Buffer, Buffer, Buffer, Buffer>;
export type FetchCallback = (error: Error | null, payload?: FetchResponse) => void;
type PartitionResponse = FetchResponse['responses'][number]['partitions'][number];
type RecordBatch = NonNullable<PartitionResponse['records']>[number];

/** Record batch attributes (the Kafka protocol's RecordBatch, KIP-98). */
const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;
/** A control record's key: version (int16), then type (int16): 0 abort, 1 commit. */
const ABORT_MARKER = 0;

function isAbortMarker(batch: RecordBatch): boolean {
  const key = batch.records[0]?.key;
  return key !== undefined && key !== null && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER;
}

/**
 * Empties the record batches of aborted transactions in one partition's fetched data, as the Java
 * consumer decides it (Fetcher's `consumeAbortedTransactionsUpTo` / `isBatchAborted`, KIP-98): the
 * response lists each aborted transaction overlapping the data by producer and first offset; from a
 * producer's first offset its transactional batches are aborted until its abort marker.
 *
 * @platformatic/kafka 2.12.1 keeps one aborted range per producer, so when one producer aborted two
 * transactions in the data fetched (a stage's transaction aborted around each of two rebalances)
 * the earlier one's records reached read_committed readers: a downstream stage processed them and
 * results were duplicated. It also lets an aborted transaction through when its marker lies past
 * the data fetched. A batch is emptied rather than dropped: the client's stream resumes after the
 * last batch of a response, so a response of aborted batches alone would otherwise be fetched again
 * forever.
 */
export function emptyAbortedBatches(partition: PartitionResponse): number {
  const batches = partition.records;
  const aborted = [...(partition.abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  if (!batches || aborted.length === 0) return 0;
  const abortedProducers = new Set<bigint>();
  let next = 0;
  let emptied = 0;
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (next < aborted.length && aborted[next]!.firstOffset <= lastOffset)
      abortedProducers.add(aborted[next++]!.producerId);
    if (batch.attributes & CONTROL) {
      if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId);
      continue; // markers stay: the stream skips them itself
    }
    if (
      batch.attributes & TRANSACTIONAL &&
      abortedProducers.has(batch.producerId) &&
      batch.records.length > 0
    ) {
      emptied += batch.records.length;
      batch.records = [];
    }
  }
  return emptied;
}

/**
 * A consumer whose read_committed fetches hold no record of an aborted transaction
 * (emptyAbortedBatches); every other fetch is the client's own.
 */
export class ReadCommittedConsumer extends Consumer<Buffer, Buffer, Buffer, Buffer> {
  private readonly isolationLevel: number;

  constructor(options: ConsumerOptions<Buffer, Buffer, Buffer, Buffer>) {
    super(options);
    this.isolationLevel = options.isolationLevel ?? FetchIsolationLevels.READ_COMMITTED;
  }

  override fetch(options: BufferFetchOptions, callback: FetchCallback): void;
  override fetch(options: BufferFetchOptions): Promise<FetchResponse>;
  override fetch(options: BufferFetchOptions, callback?: FetchCallback): undefined | Promise<FetchResponse> {
    if (!callback) {
      return new Promise((resolve, reject) =>
        this.fetchThen(options, (error, response) => (error ? reject(error) : resolve(response!))),
      );
    }
    this.fetchThen(options, callback);
  }

  /** The fetch, answered through `callback` (the client's stream calls `fetch` that way); a subclass adds to it. */
  protected fetchThen(options: BufferFetchOptions, callback: FetchCallback): void {
    const readCommitted =
      (options.isolationLevel ?? this.isolationLevel) === FetchIsolationLevels.READ_COMMITTED;
    super.fetch(options, (error: Error | null, response?: FetchResponse) => {
      if (!error && response && readCommitted) {
        for (const topic of response.responses)
          for (const partition of topic.partitions) emptyAbortedBatches(partition);
      }
      callback(error, response);
    });
  }
}
