/**
 * Warms a fresh broker before the runtime benchmark's first measured run. A broker's first
 * transactions and group commits create __transaction_state and __consumer_offsets (50 partitions
 * each), and its JIT has compiled nothing yet: measured on this project's stack, its CPU per record
 * fell from 80 µs in the first 50,000 transactional records to 21–33 µs after 200,000. Without this,
 * whichever run came first (Kafka Streams') ran on a cold broker (bench/RESULTS.md, 2026-12-01).
 */
import type { Kafka } from 'kafkajs';

const PER_TRANSACTION = 1_000;

/** `rows` records through `topic` (already created, `partitions` of them) in transactions, then read back. */
export async function warmUpBroker(
  kafka: Kafka,
  topic: string,
  rows: number,
  partitions: number,
): Promise<void> {
  // The stages' shape: transactions that write records and commit a group's offsets.
  const producer = kafka.producer({
    transactionalId: `${topic}-producer`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const value = Buffer.alloc(200, 'x');
    for (let sent = 0, n = 0; sent < rows; sent += PER_TRANSACTION, n++) {
      const transaction = await producer.transaction();
      await transaction.send({
        topic,
        messages: Array.from({ length: Math.min(PER_TRANSACTION, rows - sent) }, (_, i) => ({
          key: String(sent + i),
          value,
        })),
      });
      await transaction.sendOffsets({
        consumerGroupId: `${topic}-group`,
        topics: [{ topic, partitions: [{ partition: n % partitions, offset: String(n) }] }],
      });
      await transaction.commit();
    }
  } finally {
    await producer.disconnect();
  }
  // And a read_committed reader of all of it.
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, readUncommitted: false });
  await consumer.connect();
  try {
    let received = 0;
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        received += batch.messages.length;
      },
    });
    const deadline = Date.now() + 120_000;
    while (received < rows && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (received < rows) throw new Error(`broker warm-up: only ${received} of ${rows} records came back`);
  } finally {
    await consumer.disconnect();
  }
}
