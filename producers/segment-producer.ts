import { AvroProducer } from '../runtime/kafka/avro-producer.js';
import type { KafkaClients } from '../runtime/kafka/client.js';
import type { Logger } from '../runtime/logger.js';
import type { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { avroSchemas, type TextSegment } from '../schemas/index.js';

export { newTextSegment } from '../schemas/index.js';

export interface KeyedSegment {
  /** streamId for streams (ordered per stream), the row id for batch rows (spread out). */
  key: string;
  segment: TextSegment;
  /** Record headers: the W3C trace context of the request that sent it. */
  headers?: Record<string, string>;
}

/**
 * Writes TextSegments into segments.raw (or any TextSegment topic), each stamped with where it
 * entered the pipeline, so end-to-end latency can be read from the results. Used by the CSV
 * producer and the gateway.
 */
export class SegmentProducer {
  private constructor(private readonly producer: AvroProducer<TextSegment>) {}

  get topic(): string {
    return this.producer.topic;
  }

  static async connect(options: {
    kafka: KafkaClients;
    registry: SchemaRegistryClient;
    topic: string;
    logger: Logger;
  }): Promise<SegmentProducer> {
    return new SegmentProducer(
      await AvroProducer.connect<TextSegment>({ ...options, schema: avroSchemas.TextSegment }),
    );
  }

  /** Sends the segments (stamped as entering the pipeline now) and resolves once Kafka has them all. */
  async send(items: readonly KeyedSegment[], origin = 'produce'): Promise<void> {
    const atMs = Date.now();
    await this.producer.send(
      items.map(({ key, segment, headers }) => ({
        key,
        value: { ...segment, trace: segment.trace.length > 0 ? segment.trace : [{ stage: origin, atMs }] },
        ...(headers ? { headers } : {}),
      })),
    );
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
