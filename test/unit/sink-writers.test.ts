import { describe, expect, it } from 'vitest';
import { untilAvailable } from '../../runtime/backoff.js';
import type { BlobStore } from '../../runtime/blob/blob-store.js';
import { BlobFilesWriter } from '../../runtime/sink/blob-files-writer.js';
import { WriterBusyError } from '../../runtime/sink/sink-writer.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { EmotionResult } from '../../schemas/index.js';
import { EmotionFileRouter } from '../../sinks/blob/emotion-files.js';
import { postgresSinkConfig } from '../../sinks/postgres/postgres-sink.js';
import { emotionResult } from '../support/blob.js';

/** Blob storage in a Map: what the writer's calls leave behind is all these tests look at. */
function memoryStore() {
  const blobs = new Map<string, string>();
  const store = {
    containerName: 'memory',
    blobs,
    async ensureContainer() {},
    async ping() {
      return true;
    },
    async put(name: string, body: string, options: { onlyIfAbsent?: boolean } = {}) {
      if (options.onlyIfAbsent && blobs.has(name)) return false;
      blobs.set(name, body);
      return true;
    },
    async getJson<T>(name: string) {
      const body = blobs.get(name);
      return body === undefined ? undefined : (JSON.parse(body) as T);
    },
  };
  return store as typeof store & BlobStore;
}

const record = (offset: number, streamId: string): InputRecord<EmotionResult> => ({
  topic: 'emotions',
  partition: 3,
  offset: String(offset),
  key: streamId,
  value: emotionResult(`seg-${offset}`, streamId, offset),
  timestamp: Date.UTC(2026, 10, 30, 12),
  headers: {},
});

describe('the Blob files writer (the blob sink without Kafka)', () => {
  it('writes a range as one file per directory, named by the range, and a second write of it changes nothing', async () => {
    const store = memoryStore();
    const writer = new BlobFilesWriter(store, new EmotionFileRouter('emotions'), '_sink/g/emotions');
    const records = [record(10, 'a'), record(11, 'b'), record(12, 'a')];
    const lines = await writer.prepare(records);
    const items = lines.map((item, i) => ({ offset: BigInt(10 + i), item: item! }));
    const range = { topic: 'emotions', partition: 3, from: 10n, to: 12n };

    const first = await writer.write(range, items);
    const after = new Map(store.blobs);
    const second = await writer.write(range, items);

    expect(first.names).toEqual([
      'emotions/dt=2026-11-30/stream=a/part-0003-00000000000000000010-00000000000000000012.jsonl',
      'emotions/dt=2026-11-30/stream=b/part-0003-00000000000000000010-00000000000000000012.jsonl',
    ]);
    expect(second).toEqual(first);
    expect(store.blobs).toEqual(after);
    const streamA = store.blobs.get(first.names[0]!)!.trim().split('\n');
    expect(streamA.map((line) => (JSON.parse(line) as EmotionResult).seq)).toEqual([10, 12]);
    expect(first.bytes).toBe(lines.reduce((sum, line) => sum + writer.sizeOf(line!), 0));
  });

  it('keeps the first end chosen for a range, so a successor cuts the same files', async () => {
    const store = memoryStore();
    const writer = new BlobFilesWriter(store, new EmotionFileRouter('emotions'), '_sink/g/emotions');
    expect(await writer.ledger.find(3, 10n)).toBeUndefined();
    expect(await writer.ledger.claim(3, 10n, 20n)).toBe(20n);
    // A successor that buffered more would like a longer range; the recorded end wins.
    expect(await writer.ledger.claim(3, 10n, 35n)).toBe(20n);
    expect(await writer.ledger.find(3, 10n)).toBe(20n);
  });
});

describe('backpressure', () => {
  it('waits as long as a busy writer asks, instead of its own backoff', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await untilAvailable(
      async () => {
        calls += 1;
        if (calls < 3) throw new WriterBusyError('throttled', 5);
        return 'written';
      },
      { initialMs: 60_000, maxMs: 60_000, stopping: () => false, onRetry: (_, waitMs) => waits.push(waitMs) },
    );
    expect({ result, waits }).toEqual({ result: 'written', waits: [5, 5] });
  });
});

describe('PostgreSQL sink configuration', () => {
  it('needs POSTGRES_URL and refuses a table name that is not a plain SQL name', () => {
    expect(() => postgresSinkConfig({})).toThrow(/POSTGRES_URL/);
    expect(postgresSinkConfig({ POSTGRES_URL: 'postgres://db/x' })).toEqual({
      url: 'postgres://db/x',
      table: 'emotion_results',
    });
    expect(() =>
      postgresSinkConfig({ POSTGRES_URL: 'postgres://db/x', POSTGRES_TABLE: 'x; drop table y' }),
    ).toThrow(/POSTGRES_TABLE/);
  });
});
