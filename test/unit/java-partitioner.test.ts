import { randomBytes } from 'node:crypto';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { javaPartitioner, murmur2 } from '../../runtime/kafka/java-partitioner.js';

describe('javaPartitioner', () => {
  it("puts every key where the client's Java-compatible partitioner does", () => {
    const keys = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('ab'),
      Buffer.from('abc'),
      Buffer.from('abcd'),
      Buffer.from('csv:rows.csv:17'),
      Buffer.from('ăîșțâ – emoții'),
      ...Array.from({ length: 2000 }, (_, i) => randomBytes(i % 67)),
    ];
    for (const key of keys) {
      expect(javaPartitioner(undefined, key), key.toString('hex')).toBe(
        compatibilityPartitioner(undefined as never, key),
      );
    }
  });

  it("matches Kafka's own Utils.murmur2", () => {
    // Printed by org.apache.kafka.common.utils.Utils.murmur2 of kafka-clients 3.9.2 (the broker's
    // jars in .cache), for each string's UTF-8 bytes.
    const hashes: Array<[string, number]> = [
      ['', 275646681],
      ['a', -1563381124],
      ['ab', 316155434],
      ['abc', 479470107],
      ['abcd', -1323649548],
      ['csv:rows.csv:17', 1791919854],
      ['ăîșțâ – emoții', 1313812120],
    ];
    for (const [text, hash] of hashes) expect(murmur2(Buffer.from(text)), text).toBe(hash);
  });

  it('sends a record without a key to partition 0, as the client does', () => {
    expect(javaPartitioner(undefined, undefined)).toBe(0);
  });
});
