import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import type { KafkaConfig } from '../config/index.js';

/**
 * Record batch compression. kafkajs ships gzip only and throws KafkaJSNotImplemented for a batch in
 * any other codec: one row written by Confluent's client (librdkafka) with `compression.type`
 * snappy, lz4 or zstd made the stage reading it exit, restart and fetch the same batch again, and
 * the whole pipeline stopped behind it. Every codec of the record batch format (KIP-98's
 * attributes bits 0-2; zstd since KIP-110) is registered here for every client this project
 * builds (producer-policy.ts), reading and writing:
 * - lz4 from lz4-napi (LZ4 frame format, the one Kafka's clients write since KIP-57);
 * - snappy from @platformatic/wasm-utils (WebAssembly, no build step; the codec of the maintained
 *   client this project moves to), raw blocks as librdkafka writes them and xerial's framing as the
 *   Java client writes them;
 * - zstd from Node's own zlib (zstdCompress/zstdDecompress, Node 23.8 and 22.15 on).
 */
export type KafkaCompression = KafkaConfig['compression'];

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

/** The stream header xerial's SnappyOutputStream starts with (Java client), then two int32 versions. */
const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_PREAMBLE_BYTES = XERIAL_HEADER.length + 8;

/** A snappy batch as either client writes it: one raw block, or xerial's length-prefixed blocks. */
export function snappyUnframe(buffer: Buffer): Buffer {
  if (
    buffer.length < XERIAL_PREAMBLE_BYTES ||
    !buffer.subarray(0, XERIAL_HEADER.length).equals(XERIAL_HEADER)
  ) {
    return snappyDecompress(buffer);
  }
  const blocks: Buffer[] = [];
  for (let at = XERIAL_PREAMBLE_BYTES; at < buffer.length; ) {
    if (at + 4 > buffer.length) throw new Error('snappy: truncated xerial block length');
    const length = buffer.readUInt32BE(at);
    at += 4;
    if (at + length > buffer.length) throw new Error('snappy: truncated xerial block');
    blocks.push(snappyDecompress(buffer.subarray(at, at + length)));
    at += length;
  }
  return Buffer.concat(blocks);
}

const CODECS: Record<Exclude<KafkaCompression, 'none' | 'gzip'>, { type: CompressionTypes; codec: Codec }> = {
  lz4: {
    type: CompressionTypes.LZ4,
    codec: {
      compress: async (encoder) => compressFrame(encoder.buffer),
      decompress: async (buffer) => decompressFrame(buffer),
    },
  },
  snappy: {
    type: CompressionTypes.Snappy,
    codec: {
      compress: async (encoder) => snappyCompress(encoder.buffer),
      decompress: async (buffer) => snappyUnframe(buffer),
    },
  },
  zstd: {
    type: CompressionTypes.ZSTD,
    codec: {
      compress: (encoder) => zstdCompress(encoder.buffer),
      decompress: (buffer) => zstdDecompress(buffer),
    },
  },
};

let registered = false;

/** Teaches kafkajs to read and write every codec of the record batch format (once per process). */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  // CompressionCodecs is on kafkajs' CommonJS export object, not a named ESM export.
  const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>;
  for (const { type, codec } of Object.values(CODECS)) codecs[type] = () => codec;
}

/** The kafkajs compression type of a setting (KAFKA_COMPRESSION). */
export function compressionType(compression: KafkaCompression): CompressionTypes {
  if (compression === 'none') return CompressionTypes.None;
  if (compression === 'gzip') return CompressionTypes.GZIP;
  return CODECS[compression].type;
}
