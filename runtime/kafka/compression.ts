import kafkajs, { CompressionTypes } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import type { KafkaConfig } from '../config/index.js';

/**
 * Record batch compression (issue 21: every record went uncompressed, about 880 bytes an emotion
 * result). kafkajs ships gzip only; LZ4 comes from lz4-napi (LZ4 frame format, the one Kafka's
 * clients write since KIP-57; a prebuilt binary from the npm registry, no build step). Consumers
 * need the codec too, so every client this project builds registers it (producer-policy.ts).
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
