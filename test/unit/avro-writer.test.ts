import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileAvroWriter } from '../../runtime/serde/avro-writer.js';
import { avroSchemas } from '../../schemas/index.js';

/** The bytes our writer gives, in a buffer grown until they fit. */
function written(type: avro.Type, value: unknown, size = 16): Buffer {
  const write = compileAvroWriter(type);
  for (let buf = Buffer.alloc(size); ; buf = Buffer.alloc(buf.length * 2)) {
    const end = write(value, buf, 0);
    if (end >= 0) return buf.subarray(0, end);
  }
}

const strings = [
  '',
  'a',
  'ro',
  'x'.repeat(21),
  'x'.repeat(22),
  'y'.repeat(63),
  'y'.repeat(64),
  'z'.repeat(8191),
  'z'.repeat(8192),
  'ă'.repeat(21),
  'ăîșț'.repeat(16),
  'ț'.repeat(4000),
  '東京'.repeat(11),
  '東京'.repeat(1400),
  '😀 emoji 😢',
  '😀'.repeat(10),
  '😀'.repeat(2000),
  'w'.repeat(400_000),
];

describe('compileAvroWriter', () => {
  it("writes avsc's bytes for random values of every event schema", () => {
    for (const [name, schema] of Object.entries(avroSchemas)) {
      const type = avro.Type.forSchema(schema as unknown as avro.Schema);
      for (let i = 0; i < 200; i++) {
        const value = type.random();
        expect(written(type, value).equals(type.toBuffer(value)), `${name} #${i}`).toBe(true);
      }
    }
  });

  it("writes avsc's bytes for strings of every length class and script", () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'string' });
    for (const s of strings) {
      const bytes = written(type, [s]);
      expect(bytes.equals(type.toBuffer([s])), `${s.slice(0, 12)}… (${s.length})`).toBe(true);
      expect(type.fromBuffer(bytes)).toEqual([s]);
    }
  });

  it('writes longs across the 31-bit boundary and up to the safe integers', () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'long' });
    const longs = [0, -1, 1, 63, -64, 64, 1073741823, -1073741824, 1073741824, -1073741825];
    longs.push(Date.now(), -Date.now(), 2 ** 40, 2 ** 53 - 2, -(2 ** 52));
    expect(written(type, longs).equals(type.toBuffer(longs))).toBe(true);
    expect(type.fromBuffer(written(type, longs))).toEqual(longs);
    for (const refused of [Number.MAX_SAFE_INTEGER, 0.5, Number.NaN]) {
      expect(() => type.toBuffer([refused])).toThrow();
      expect(() => written(type, [refused])).toThrow();
    }
  });

  it('writes defaults for fields left undefined, as avsc does', () => {
    const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);
    const value = { id: 'a', streamId: 's', seq: 1, origin: 'API', text: 'hello' };
    expect(written(type, value).equals(type.toBuffer(value))).toBe(true);
  });

  it('answers -1 for a buffer too small, and the same bytes in a larger one', () => {
    const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);
    const value = type.random();
    const write = compileAvroWriter(type);
    const expected = type.toBuffer(value);
    for (let size = 0; size < expected.length + 12; size++) {
      const end = write(value, Buffer.alloc(size), 0);
      if (end >= 0) expect(end).toBe(expected.length);
    }
    const buf = Buffer.alloc(4 * expected.length + 64);
    expect(buf.subarray(5, write(value, buf, 5)).equals(expected)).toBe(true);
  });

  it('refuses what avsc refuses', () => {
    const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);
    const valid = { id: 'a', streamId: 's', seq: 1, origin: 'API', text: 'hello', trace: [] };
    const write = compileAvroWriter(type);
    const cases: Array<Record<string, unknown>> = [
      { ...valid, id: 7 },
      { ...valid, seq: 1.5 },
      { ...valid, seq: '1' },
      { ...valid, origin: 'EMAIL' },
      { ...valid, language: 3 },
      { ...valid, correction: 'no' },
      { ...valid, trace: [{ stage: 'x', atMs: 'now' }] },
      { ...valid, trace: {} },
      { ...valid, text: undefined },
    ];
    for (const value of cases) {
      expect(() => type.toBuffer(value), JSON.stringify(value)).toThrow();
      expect(() => write(value, Buffer.alloc(4096), 0), JSON.stringify(value)).toThrow();
    }
    expect(() => write(null, Buffer.alloc(64), 0)).toThrow();
  });
});
