import { subjectOf } from '../../schemas/topics.js';
import type { Logger } from '../logger.js';
import { AvroEncoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { KafkaClients } from './client.js';
import { RecordProducer } from './record-producer.js';

export interface KeyedValue<T> {
  key: string;
  value: T;
  /** Record headers, e.g. the W3C trace context (runtime/tracing/record-context.ts). */
  headers?: Record<string, string>;
}

/**
 * Writes Avro values of one topic (registry wire format, subject `<topic>-value`) with an
 * idempotent producer (RecordProducer); a send resolves once every in-sync replica has them. For producers
 * outside a stage, whose writes are not part of a consume-transform-produce transaction.
 */
export class AvroProducer<T> {
  private constructor(
    private readonly producer: RecordProducer,
    private readonly encoder: AvroEncoder<T>,
    readonly topic: string,
  ) {}

  static async connect<T>(options: {
    kafka: KafkaClients;
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
    const producer = await RecordProducer.connect(options.kafka);
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
    await this.producer.send(this.topic, messages);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
