import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../runtime/kafka/records.js';
import { recordBytes, splitBySize } from '../../runtime/kafka/request-size.js';

const record = (id: number, bytes: number): OutgoingRecord => ({
  key: `k${id}`,
  value: Buffer.alloc(bytes, 1),
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

describe('splitBySize', () => {
  it('counts key, value, headers and framing', () => {
    const message = record(1, 100);
    expect(recordBytes(message)).toBe(30 + 2 + 100 + 10 + 'traceparent'.length + 55);
    expect(recordBytes({ key: null, value: null })).toBe(30);
  });

  it('leaves a send under the bound whole', () => {
    const topicMessages = [
      { topic: 'a', messages: [record(1, 100), record(2, 100)] },
      { topic: 'b', messages: [record(3, 100)] },
    ];
    const parts = splitBySize(topicMessages, 10_000);
    expect(parts).toEqual([topicMessages]);
    // The send itself, not a copy of its records.
    expect(parts[0]).toBe(topicMessages);
  });

  it('cuts a larger send into parts under the bound, keeping every record once and in order', () => {
    const messages = Array.from({ length: 50 }, (_, i) => record(i, 1000));
    const dead = Array.from({ length: 5 }, (_, i) => record(100 + i, 3000));
    const parts = splitBySize(
      [
        { topic: 'out', messages },
        { topic: 'out.dlq', messages: dead },
      ],
      10_000,
    );
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) {
      const bytes = part.flatMap((t) => t.messages).reduce((sum, m) => sum + recordBytes(m), 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
    const keysOf = (topic: string) =>
      parts.flatMap((part) =>
        part.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)),
      );
    expect(keysOf('out')).toEqual(messages.map((m) => m.key));
    expect(keysOf('out.dlq')).toEqual(dead.map((m) => m.key));
  });

  it('sends a record larger than the bound on its own, for the broker to refuse with its own error', () => {
    const parts = splitBySize(
      [{ topic: 'out', messages: [record(1, 10), record(2, 50_000), record(3, 10)] }],
      10_000,
    );
    expect(parts.map((part) => part[0]!.messages.map((m) => m.key))).toEqual([['k1'], ['k2'], ['k3']]);
  });
});
