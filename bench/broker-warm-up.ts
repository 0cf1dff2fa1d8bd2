/**
 * Warms a fresh broker before the runtime benchmark's first measured run. A broker's first
 * transactions and group commits create __transaction_state and __consumer_offsets (50 partitions
 * each), and its JIT has compiled nothing yet: measured on this project's stack, its CPU per record
 * fell from 80 µs in the first 50,000 transactional records to 21–33 µs after 200,000. Without this,
 * whichever run came first (Kafka Streams') ran on a cold broker (bench/RESULTS.md, 2026-12-01).
 */
import type { StageConfig } from '../runtime/config/index.js';
import type { KafkaClients } from '../runtime/kafka/client.js';
import { ExactlyOnceLoop } from '../runtime/kafka/exactly-once-loop.js';
import { RecordProducer } from '../runtime/kafka/record-producer.js';
import type { RecordsByTopic } from '../runtime/kafka/records.js';

/**
 * `rows` records onto `topic` (already created), then through one exactly-once hop into `output`
 * (the stages' shape: transactions that write records and commit a group's offsets), read_committed.
 */
export async function warmUpBroker(
  kafka: KafkaClients,
  stage: StageConfig,
  topic: string,
  output: string,
  rows: number,
): Promise<void> {
  const producer = await RecordProducer.connect(kafka);
  try {
    const value = Buffer.alloc(200, 'x');
    for (let sent = 0; sent < rows; sent += 1000) {
      const count = Math.min(1000, rows - sent);
      await producer.send(
        topic,
        Array.from({ length: count }, (_, i) => ({ key: String(sent + i), value })),
      );
    }
  } finally {
    await producer.close();
  }
  let passed = 0;
  let failure: Error | undefined;
  const hop = new ExactlyOnceLoop<{ messagesByTopic: RecordsByTopic }>({
    clients: kafka,
    groupId: `${topic}-group`,
    topic,
    settings: stage,
    logger: kafka.logger,
    batchSize: () => stage.maxBatchRecords,
    process: async (records) => ({
      messagesByTopic: new Map([[output, records.map((r) => ({ key: r.key, value: r.value }))]]),
    }),
    observer: {
      committed: (records) => {
        passed += records.length;
      },
    },
    onCrash: (error) => {
      failure = error;
    },
  });
  await hop.start();
  try {
    const deadline = Date.now() + 120_000;
    while (passed < rows && !failure && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    if (failure) throw failure;
    if (passed < rows) throw new Error(`broker warm-up: only ${passed} of ${rows} records went through`);
  } finally {
    await hop.stop();
  }
}
