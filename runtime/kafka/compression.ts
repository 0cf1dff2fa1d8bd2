import kafkajs, { CompressionTypes, type Kafka, type Producer, type Transaction } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import type { KafkaConfig } from '../config/index.js';

/**
 * Record batch compression (issue 21: every record went uncompressed, about 880 bytes an emotion
 * result). kafkajs ships gzip only; LZ4 comes from lz4-napi (LZ4 frame format, the one Kafka's
 * clients write since KIP-57; a prebuilt binary from the npm registry, no build step). Consumers
 * need the codec too, so every client this project builds registers it (createKafka).
 */
export type KafkaCompression = KafkaConfig['compression'];

let registered = false;

/** Teaches kafkajs to read and write LZ4 batches (once per process). */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  // CompressionCodecs is on kafkajs' CommonJS export object, not a named ESM export.
  kafkajs.CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrame(buffer),
  });
}

/** The kafkajs compression type of a setting (KAFKA_COMPRESSION). */
export function compressionType(compression: KafkaCompression): CompressionTypes {
  return compression === 'lz4'
    ? CompressionTypes.LZ4
    : compression === 'gzip'
      ? CompressionTypes.GZIP
      : CompressionTypes.None;
}

type Sendable = Pick<Producer, 'send' | 'sendBatch'>;

/** The same object with `compression` set on every send and sendBatch that does not name one. */
function compressing<T extends Sendable>(target: T, compression: CompressionTypes): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property === 'send')
        return (record: Parameters<Producer['send']>[0]) => object.send({ compression, ...record });
      if (property === 'sendBatch')
        return (batch: Parameters<Producer['sendBatch']>[0]) => object.sendBatch({ compression, ...batch });
      const value = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/**
 * A client whose producers (and their transactions) compress every batch as configured: one
 * place for the setting, instead of each of the five places that send. kafkajs takes compression
 * per send call only.
 */
export function withCompression(kafka: Kafka, compression: KafkaCompression): Kafka {
  registerCompressionCodecs();
  if (compression === 'none') return kafka;
  const type = compressionType(compression);
  const producer = kafka.producer.bind(kafka);
  return new Proxy(kafka, {
    get(object, property, receiver) {
      if (property !== 'producer') return Reflect.get(object, property, receiver);
      return (...args: Parameters<Kafka['producer']>) => {
        const created = producer(...args);
        const transaction = created.transaction.bind(created);
        return compressing(
          new Proxy(created, {
            get(target, name, self) {
              if (name === 'transaction')
                return async () => compressing<Transaction>(await transaction(), type);
              return Reflect.get(target, name, self);
            },
          }),
          type,
        );
      };
    },
  });
}
