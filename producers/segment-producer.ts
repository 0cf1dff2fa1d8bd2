import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';
import { AvroEncoder } from '../runtime/serde/avro-serde.js';
import type { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { avroSchemas, subjectOf, type TextSegment } from '../schemas/index.js';

export interface KeyedSegment {
  /** streamId for streams (ordered per stream), the row id for batch rows (spread out). */
  key: string;
  segment: TextSegment;
}

/** A segment as it enters the pipeline: what the producer knows, nothing a stage fills in yet. */
export function newTextSegment(
  fields: Pick<TextSegment, 'id' | 'streamId' | 'seq' | 'origin' | 'text'> & Partial<TextSegment>,
): TextSegment {
  return {
    language: null,
    startMs: null,
    endMs: null,
    jobId: null,
    asr: null,
    correction: null,
    translation: null,
    trace: [],
    ...fields,
  };
}

/**
 * Writes TextSegments into segments.raw (or any TextSegment topic): Avro with the registry's
 * schema id, idempotent producer, every send acknowledged by all in-sync replicas before it
 * resolves. Used by the CSV producer and the gateway.
 */
export class SegmentProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly encoder: AvroEncoder<TextSegment>,
    readonly topic: string,
  ) {}

  static async connect(options: {
    kafka: Kafka;
    registry: SchemaRegistryClient;
    topic: string;
    logger: Logger;
  }): Promise<SegmentProducer> {
    const encoder = await AvroEncoder.forSubject<TextSegment>(
      options.registry,
      subjectOf(options.topic),
      avroSchemas.TextSegment,
    );
    // The Java client's partitioner: a row lands on the partition any Kafka client would choose.
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    options.logger.debug({ topic: options.topic }, 'segment producer connected');
    return new SegmentProducer(producer, encoder, options.topic);
  }

  /** Sends the segments (stamped as entering the pipeline now) and resolves once Kafka has them all. */
  async send(items: readonly KeyedSegment[], origin = 'produce'): Promise<void> {
    if (items.length === 0) return;
    const atMs = Date.now();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: items.map(({ key, segment }) => ({
        key,
        value: this.encoder.encode({
          ...segment,
          trace: segment.trace.length > 0 ? segment.trace : [{ stage: origin, atMs }],
        }),
      })),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
