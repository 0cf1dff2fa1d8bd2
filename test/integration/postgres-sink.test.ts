import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { PostgresServer } from '../../runtime/stack/postgres-server.js';
import { avroSchemas, type EmotionResult } from '../../schemas/index.js';
import { emotionResult } from '../support/blob.js';
import { caughtUp, pipelineStack } from '../support/pipeline.js';
import { crashingSink, produceWhileSinkCrashes, SINK_CRASH_ENV } from '../support/sink-crashes.js';
import { stackEnv } from '../support/stack.js';
import type { StageProcess } from '../support/stage.js';
import { produceRaw, produceValues, readTopic } from '../support/topics.js';

const _sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: StageProcess[] = [];
let server: PostgresServer;
const baseDir = mkdtempSync(join(tmpdir(), 'postgres-sink-'));
// The server runs as the postgres user when the tests run as root: it must reach its directory.
chmodSync(baseDir, 0o755);

beforeAll(async () => {
  server = await PostgresServer.start({
    dataDir: join(baseDir, 'data'),
    logger: createLogger({ level: 'warn' }),
  });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

describe('PostgreSQL sink (the second writer on the sink seam)', () => {
  it('writes every result exactly once as a row while it is killed right after its inserts and restarted', async () => {
    const table = 'results_under_test';
    const { stack, overrides, topics } = await pipelineStack('pgsink', {
      POSTGRES_URL: server.url,
      POSTGRES_TABLE: table,
      ...SINK_CRASH_ENV,
    });
    // Each round's sink kills itself right after its Nth INSERT, before the commit.
    const sinkRound = crashingSink({
      env: stackEnv(overrides),
      logFile: join(baseDir, 'sink.log'),
      fixture: './test/fixtures/die-after-sql-insert.ts',
      dieAfterVariable: 'FIXTURE_DIE_AFTER_INSERTS',
      sink: 'postgres',
      started: processes,
    });

    const { results, selfKills } = await produceWhileSinkCrashes({
      stack,
      topic: topics.emotions,
      startSink: sinkRound,
      afterwards: async () => {
        // Two records no table can take: not Avro at all, and text with a NUL character.
        await produceRaw(stack.kafka, topics.emotions, [{ key: 'stream-0', value: Buffer.from('not avro') }]);
        const nul = { ...emotionResult('seg-nul', 'stream-0', -1), text: 'before\u0000after' };
        await produceValues(stack.kafka, stack.registry, topics.emotions, avroSchemas.EmotionResult, [
          { key: nul.streamId, value: nul },
        ]);
      },
    });

    await caughtUp(stack, overrides.TOPIC_PREFIX, 'postgres-sink', topics.emotions, 120_000);

    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const rows = (
        await client.query<{
          id: string;
          stream_id: string;
          seq: string;
          top_label: string;
          result: EmotionResult;
        }>(`SELECT id, stream_id, seq, top_label, result FROM ${table}`)
      ).rows;
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.id, (counts.get(row.id) ?? 0) + 1);
      expect({
        selfKills,
        rows: rows.length,
        lost: results.filter((r) => !counts.has(r.id)).length,
        duplicated: [...counts.values()].filter((n) => n > 1).length,
      }).toEqual({ selfKills: 5, rows: results.length, lost: 0, duplicated: 0 });
      const byId = new Map(results.map((r) => [r.id, r]));
      for (const row of rows) {
        const sent = byId.get(row.id)!;
        expect([row.stream_id, Number(row.seq), row.top_label]).toEqual([
          sent.streamId,
          sent.seq,
          sent.topLabel,
        ]);
        expect(row.result.text).toBe(sent.text);
      }
    } finally {
      await client.end();
    }

    const deadLetters = await readTopic(stack.kafka, `${topics.emotions}.dlq`);
    expect(deadLetters.length).toBe(2);
    expect(deadLetters[0]!.value?.toString()).toBe('not avro');
  });
});
