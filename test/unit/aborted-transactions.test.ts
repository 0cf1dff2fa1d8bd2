import { describe, expect, it } from 'vitest';
import { emptyAbortedBatches } from '../../runtime/kafka/aborted-transactions.js';

type Partition = Parameters<typeof emptyAbortedBatches>[0];

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

/** A batch of `count` records at `offset` by `producerId` (transactional unless said otherwise). */
function batch(producerId: bigint, offset: bigint, count: number, attributes = TRANSACTIONAL) {
  return {
    firstOffset: offset,
    lastOffsetDelta: count - 1,
    attributes,
    producerId,
    records: Array.from({ length: count }, (_, i) => ({
      offsetDelta: i,
      key: Buffer.from(`r${offset + BigInt(i)}`),
    })),
  };
}

/** A control batch: the transaction marker (type 0 abort, 1 commit). */
function marker(producerId: bigint, offset: bigint, type: 0 | 1) {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return { ...batch(producerId, offset, 1, TRANSACTIONAL | CONTROL), records: [{ offsetDelta: 0, key }] };
}

function partition(
  records: unknown[],
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }>,
) {
  return { partitionIndex: 0, records, abortedTransactions } as unknown as Partition;
}

/** The offsets of the records still in the partition's data batches. */
function kept(p: Partition): bigint[] {
  return (p.records ?? [])
    .filter((b) => !(b.attributes & CONTROL))
    .flatMap((b) => b.records.map((r) => b.firstOffset + BigInt(r.offsetDelta)));
}

describe('emptyAbortedBatches (read_committed, as the Java consumer decides)', () => {
  it('empties every aborted transaction of one producer, and keeps its committed ones between them', () => {
    const p = partition(
      [
        batch(7n, 0n, 3),
        marker(7n, 3n, 0),
        batch(7n, 4n, 3),
        marker(7n, 7n, 1),
        batch(7n, 8n, 3),
        marker(7n, 11n, 0),
        batch(7n, 12n, 3),
        marker(7n, 15n, 1),
      ],
      [
        { producerId: 7n, firstOffset: 0n },
        { producerId: 7n, firstOffset: 8n },
      ],
    );
    expect(emptyAbortedBatches(p)).toBe(6);
    expect(kept(p)).toEqual([4n, 5n, 6n, 12n, 13n, 14n]);
  });

  it("empties an aborted transaction whose marker is past the data, and keeps the batches' places", () => {
    const p = partition(
      [batch(7n, 0n, 2), batch(9n, 2n, 2, 0), batch(7n, 4n, 2)],
      [{ producerId: 7n, firstOffset: 0n }],
    );
    expect(emptyAbortedBatches(p)).toBe(4);
    // The other producer's (non-transactional) records stay; the emptied batches are still there,
    // so the stream resumes after the last one instead of fetching them again.
    expect(kept(p)).toEqual([2n, 3n]);
    expect(p.records!.map((b) => b.firstOffset)).toEqual([0n, 2n, 4n]);
  });

  it('keeps everything when nothing was aborted, and a producer whose abort came before the data', () => {
    const none = partition([batch(7n, 0n, 2), marker(7n, 2n, 1)], []);
    expect(emptyAbortedBatches(none)).toBe(0);
    expect(kept(none)).toEqual([0n, 1n]);
    // Producer 7's aborted transaction ended at 2 (its marker); its next transaction is committed.
    const after = partition(
      [marker(7n, 2n, 0), batch(7n, 3n, 2), marker(7n, 5n, 1)],
      [{ producerId: 7n, firstOffset: 0n }],
    );
    expect(emptyAbortedBatches(after)).toBe(0);
    expect(kept(after)).toEqual([3n, 4n]);
  });
});
