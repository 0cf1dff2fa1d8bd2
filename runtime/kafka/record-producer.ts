import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { KafkaClients } from './client.js';
import { javaPartitioner } from './java-partitioner.js';
import { toProduce } from './platformatic-records.js';
import type { OutgoingRecord } from './records.js';
import { splitBySize } from './request-size.js';

/**
 * An idempotent producer outside any transaction: a send resolves once every in-sync replica has
 * the records (acks=all), compressed as KAFKA_COMPRESSION says, in requests under
 * KAFKA_MAX_REQUEST_BYTES. Keys are partitioned as the Java client does (murmur2), so a key lands
 * on the partition any Kafka client would choose. Sends awaited one after another keep their order.
 */
export class RecordProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly maxRequestBytes: number,
  ) {}

  static async connect(clients: KafkaClients): Promise<RecordProducer> {
    const producer = new Producer({
      ...clients.options('producer'),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: clients.config.compression,
      partitioner: javaPartitioner,
      // Same as the transactional producers: a new producer id, never the client's default of 0.
      producerId: -1n,
      producerEpoch: -1,
    });
    return new RecordProducer(producer, clients.config.maxRequestBytes);
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const request of splitBySize([{ topic, messages: records }], this.maxRequestBytes)) {
      await this.producer.send({
        messages: request.flatMap((part) => part.messages.map((m) => toProduce(part.topic, m))),
      });
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
