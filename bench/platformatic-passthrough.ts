/**
 * One passthrough hop on @platformatic/kafka, the client issue 22 asks us to evaluate: the same
 * work as bench/passthrough-stage.ts (each TextSegment decoded, stamped and re-encoded), but with
 * KIP-447 transactions: one transactional producer for the process and one transaction per batch
 * across all the partitions it owns, the offsets committed in it with the consumer's group
 * generation (TxnOffsetCommit v3+). Not a stage of the product: no dead letters, retries or
 * metrics; it measures what the client costs. Run by `npm run bench -- runtime --only e`:
 * `platformatic-passthrough.ts <name> <from-topic> <to-topic> <bootstrap>`.
 */
import { Consumer, FetchIsolationLevels, type Message, Producer } from '@platformatic/kafka';
import avro from 'avsc';
import { avroSchemas, type TextSegment } from '../schemas/index.js';

const [name, from, to, bootstrap] = process.argv.slice(2);
if (!name || !from || !to || !bootstrap) {
  process.stderr.write('usage: platformatic-passthrough.ts <name> <from-topic> <to-topic> <bootstrap>\n');
  process.exit(2);
}

/** Most records one transaction takes; the stream pauses when this many are waiting. */
const MAX_BATCH = 2000;
/** How long the first waiting record waits for more: Kafka Streams' exactly-once commit interval. */
const LINGER_MS = 100;
const HEADER_BYTES = 5;
const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);

process.stdout.write(`${name} starting\n`);
const brokers = bootstrap.split(',');
const consumer = new Consumer({ clientId: name, groupId: name, bootstrapBrokers: brokers });
const producer = new Producer({
  clientId: name,
  bootstrapBrokers: brokers,
  transactionalId: `${name}-tx`,
  idempotent: true,
  // A transaction begun while the coordinator still writes the last one's markers is refused with
  // CONCURRENT_TRANSACTIONS; the client's default 1 s retry delay then paced the first hop at one
  // transaction a second (measured: 1,900 rows/s, 1,005 ms of each batch in beginTransaction and
  // addConsumer). The Java producer also retries that error after 20 ms, not its usual backoff.
  retryDelay: 20,
});

/** Decoded, stamped with this hop and encoded again, keeping the writer's schema id. */
function restamp(value: Buffer): Buffer {
  const segment = type.fromBuffer(value.subarray(HEADER_BYTES)) as TextSegment;
  const body = type.toBuffer({ ...segment, trace: [...segment.trace, { stage: name, atMs: Date.now() }] });
  return Buffer.concat([value.subarray(0, HEADER_BYTES), body]);
}

const stream = await consumer.consume({
  topics: [from],
  mode: 'committed',
  fallbackMode: 'earliest',
  autocommit: false,
  isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  maxWaitTime: 100,
});

let pending: Message[] = [];
let busy = false;
let lingering: NodeJS.Timeout | undefined;

async function flush(): Promise<void> {
  if (busy || pending.length === 0) return;
  clearTimeout(lingering);
  lingering = undefined;
  busy = true;
  const batch = pending;
  pending = [];
  stream.resume();
  const transaction = await producer.beginTransaction();
  await transaction.addConsumer(consumer);
  await transaction.send({
    messages: batch.map((message) => ({
      topic: to!,
      key: message.key,
      value: restamp(message.value),
      headers: message.headers,
    })),
  });
  // One offset per partition: the batch's last record of it.
  const last = new Map<number, Message>();
  for (const message of batch) last.set(message.partition, message);
  for (const message of last.values()) await transaction.addOffset(message);
  await transaction.commit();
  busy = false;
  if (pending.length >= MAX_BATCH) void flush().catch(fail);
  else linger();
}

function linger(): void {
  if (lingering || pending.length === 0) return;
  lingering = setTimeout(() => {
    lingering = undefined;
    void flush().catch(fail);
  }, LINGER_MS);
}

function fail(error: unknown): void {
  process.stderr.write(`${name}: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}

stream.on('data', (message: Message) => {
  pending.push(message);
  if (pending.length >= MAX_BATCH) {
    stream.pause();
    void flush().catch(fail);
  } else linger();
});
stream.on('error', fail);
// consume() resolves once the consumer has joined its group and been assigned partitions.
process.stdout.write(`${name} RUNNING\n`);

const stop = async () => {
  await stream.close();
  await consumer.close(true);
  await producer.close(true);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
