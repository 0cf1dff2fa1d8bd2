import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmotionResult } from '../../schemas/index.js';
import { readJsonLines, testBlobStore, uniqueContainer } from '../support/blob.js';
import { caughtUp, pipelineStack } from '../support/pipeline.js';
import { crashingSink, produceWhileSinkCrashes, SINK_CRASH_ENV } from '../support/sink-crashes.js';
import { stackEnv } from '../support/stack.js';
import type { StageProcess } from '../support/stage.js';
import { produceRaw, readTopic } from '../support/topics.js';

const _sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: StageProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

describe('blob sink', () => {
  it('writes every result exactly once, filed by date and stream, while it is killed mid-upload and restarted', async () => {
    const container = uniqueContainer('blob-sink');
    // Files cut by time: the restarted sink finds the range ends its predecessor chose.
    const { stack, overrides, topics } = await pipelineStack('blobsink', {
      BLOB_CONTAINER: container,
      ...SINK_CRASH_ENV,
    });
    const store = await testBlobStore(stack.config);
    const logDir = mkdtempSync(join(tmpdir(), 'blob-sink-'));
    // Each round's sink kills itself right after its Nth file upload, before the commit.
    const sinkRound = crashingSink({
      env: stackEnv(overrides),
      logFile: join(logDir, 'sink.log'),
      fixture: './test/fixtures/die-after-upload.ts',
      dieAfterVariable: 'FIXTURE_DIE_AFTER_UPLOADS',
      sink: 'blob',
      started: processes,
    });

    const { results, selfKills } = await produceWhileSinkCrashes({
      stack,
      topic: topics.emotions,
      startSink: sinkRound,
      afterwards: async () => {
        // A record that is not Avro at all: it must reach the dead-letter topic, not a file.
        await produceRaw(stack.kafka, topics.emotions, [{ key: 'stream-0', value: Buffer.from('not avro') }]);
      },
    });

    await caughtUp(stack, overrides.TOPIC_PREFIX, 'blob-sink', topics.emotions, 120_000);

    const lines = await readJsonLines<EmotionResult>(store, `${topics.emotions}/`);
    const counts = new Map<string, number>();
    for (const { value } of lines) counts.set(value.id, (counts.get(value.id) ?? 0) + 1);
    const duplicated = [...counts.values()].filter((n) => n > 1).length;
    const lost = results.filter((r) => !counts.has(r.id)).length;
    expect({ selfKills, lines: lines.length, lost, duplicated }).toEqual({
      selfKills: 5,
      lines: results.length,
      lost: 0,
      duplicated: 0,
    });

    // Hive-style layout: the topic, the UTC date, the stream, then the partition's offset range.
    const today = new Date().toISOString().slice(0, 10);
    for (const { blob, value } of lines) {
      expect(blob).toMatch(
        new RegExp(
          `^${topics.emotions.replaceAll('.', '\\.')}/dt=\\d{4}-\\d{2}-\\d{2}/stream=${value.streamId}/part-\\d{4}-\\d{20}-\\d{20}\\.jsonl$`,
        ),
      );
    }
    expect(lines.some(({ blob }) => blob.includes(`/dt=${today}/`))).toBe(true);
    // Within a file, lines keep the partition's order.
    const seqsByBlob = new Map<string, number[]>();
    for (const { blob, value } of lines) seqsByBlob.set(blob, [...(seqsByBlob.get(blob) ?? []), value.seq]);
    for (const seqs of seqsByBlob.values()) {
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }

    const deadLetters = await readTopic(stack.kafka, `${topics.emotions}.dlq`);
    expect(deadLetters.map((r) => r.value?.toString())).toEqual(['not avro']);
  });
});
