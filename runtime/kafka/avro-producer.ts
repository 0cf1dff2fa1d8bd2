import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { subjectOf } from '../../schemas/topics.js';
import type { Logger } from '../logger.js';
import { AvroEncoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';

export interface KeyedValue<T> {
  key: string;
  value: T;
  /** Record headers, e.g. the W3C trace context (runtime/kafka/trace-context.ts). */
  headers?: Record<string, string>;
}

/**
 * Writes Avro values of one topic (registry wire format, subject `<topic>-value`) with an
 * idempotent producer; a send resolves once every in-sync replica has the records. For producers
 * outside a stage, whose writes are not part of a consume-transform-produce transaction.
 */
export class AvroProducer<T> {
  private constructor(
    private readonly producer: Producer,
    private readonly encoder: AvroEncoder<T>,
    readonly topic: string,
  ) {}

  static async connect<T>(options: {
    kafka: Kafka;
    registry: SchemaRegistryClient;
    topic: string;
    schema: object;
    logger: Logger;
  }): Promise<AvroProducer<T>> {
    const encoder = await AvroEncoder.forSubject<T>(
      options.registry,
      subjectOf(options.topic),
      options.schema,
    );
    // The Java client's partitioner: a key lands on the partition any Kafka client would choose.
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    options.logger.debug({ topic: options.topic }, 'producer connected');
    return new AvroProducer<T>(producer, encoder, options.topic);
  }

  /** Encodes every value first (a value that does not fit the schema sends nothing), then sends. */
  async send(items: readonly KeyedValue<T>[]): Promise<void> {
    if (items.length === 0) return;
    const messages = items.map(({ key, value, headers }) => ({
      key,
      value: this.encoder.encode(value),
      ...(headers ? { headers } : {}),
    }));
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
