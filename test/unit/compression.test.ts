import { snappyCompress } from '@platformatic/wasm-utils';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KAFKA_COMPRESSIONS } from '../../runtime/config/index.js';
import {
  compressionType,
  registerCompressionCodecs,
  snappyUnframe,
} from '../../runtime/kafka/compression.js';

type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };

const records = Buffer.from('a record batch body, repeated. '.repeat(200));

describe('record batch codecs', () => {
  it('every KAFKA_COMPRESSION setting is a codec kafkajs reads back what it wrote with', async () => {
    registerCompressionCodecs();
    const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>;
    for (const compression of KAFKA_COMPRESSIONS) {
      if (compression === 'none') continue;
      const codec = codecs[compressionType(compression)]!();
      const compressed = await codec.compress({ buffer: records });
      expect(compressed.length, compression).toBeLessThan(records.length / 4);
      expect((await codec.decompress(compressed)).equals(records), compression).toBe(true);
    }
  });

  it("snappy reads xerial's framing, as the Java client writes it, as well as raw blocks", () => {
    const half = records.length / 2;
    const blocks = [snappyCompress(records.subarray(0, half)), snappyCompress(records.subarray(half))];
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const framed = Buffer.concat([
      header,
      ...blocks.flatMap((block) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(block.length);
        return [length, block];
      }),
    ]);
    expect(snappyUnframe(framed).equals(records)).toBe(true);
    expect(snappyUnframe(snappyCompress(records)).equals(records)).toBe(true);
    expect(() => snappyUnframe(framed.subarray(0, framed.length - 3))).toThrow(/truncated/);
  });
});
