import { Partitioners, type Producer } from 'kafkajs';
import { type KafkaClients, kafkajsOf } from './client.js';
import type { OutgoingRecord } from './records.js';

/**
 * An idempotent producer outside any transaction: a send resolves once every in-sync replica has
 * the records (acks=all). Keys are partitioned as the Java client does (murmur2), so a key lands
 * on the partition any Kafka client would choose.
 */
export class RecordProducer {
  private constructor(private readonly producer: Producer) {}

  /**
   * `inOrder` keeps one request in flight, so a retried send cannot land after a later one (the
   * dead letters of a sink); otherwise up to five, the most idempotence keeps in order too.
   */
  static async connect(clients: KafkaClients, options: { inOrder?: boolean } = {}): Promise<RecordProducer> {
    const producer = kafkajsOf(clients).producer({
      idempotent: true,
      maxInFlightRequests: options.inOrder ? 1 : 5,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return new RecordProducer(producer);
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({ topic, acks: -1, messages: records });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
