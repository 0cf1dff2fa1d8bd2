import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupIdOf } from '../../runtime/kafka/group-ids.js';
import type { EmotionResult } from '../../schemas/index.js';
import { readJsonLines, testBlobStore, uniqueContainer } from '../support/blob.js';
import { pipelineStack } from '../support/pipeline.js';
import { produceWhileSinkCrashes } from '../support/sink-crashes.js';
import { stackEnv } from '../support/stack.js';
import { StageProcess } from '../support/stage.js';
import { produceRaw, readTopic, waitForGroupCaughtUp } from '../support/topics.js';

const _sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: StageProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

describe('blob sink', () => {
  it('writes every result exactly once, filed by date and stream, while it is killed mid-upload and restarted', async () => {
    const container = uniqueContainer('blob-sink');
    const sinkEnv = {
      BLOB_CONTAINER: container,
      // Files cut by time: a restarted sink, buffering more at once, would cut other ranges than
      // its predecessor unless it finds the ends its predecessor chose.
      SINK_FLUSH_BYTES: '10000000',
      SINK_FLUSH_INTERVAL_MS: '300',
      STAGE_RETRY_INITIAL_MS: '100',
      // A killed sink's partitions move to its successor as soon as its session ends.
      KAFKA_SESSION_TIMEOUT_MS: '3000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
    };
    const { stack, overrides, topics } = await pipelineStack('blobsink', sinkEnv);
    const store = await testBlobStore(stack.config);
    const logDir = mkdtempSync(join(tmpdir(), 'blob-sink-'));
    const env = stackEnv(overrides);
    // Each round's sink kills itself right after its Nth file upload, before the commit.
    const sinkRound = (dieAfterUploads: number) => {
      const sink = new StageProcess(
        { ...env, FIXTURE_DIE_AFTER_UPLOADS: String(dieAfterUploads) },
        join(logDir, 'sink.log'),
        ['--import', './test/fixtures/die-after-upload.ts', 'cli/run.ts', 'sink', 'blob'],
      );
      processes.push(sink);
      sink.start();
      return sink;
    };

    const { results, selfKills } = await produceWhileSinkCrashes({
      stack,
      topic: topics.emotions,
      startSink: sinkRound,
      afterwards: async () => {
        // A record that is not Avro at all: it must reach the dead-letter topic, not a file.
        await produceRaw(stack.kafka, topics.emotions, [{ key: 'stream-0', value: Buffer.from('not avro') }]);
      },
    });

    const admin = stack.kafka.admin();
    await admin.connect();
    try {
      await waitForGroupCaughtUp(
        admin,
        groupIdOf(overrides.TOPIC_PREFIX, 'blob-sink'),
        topics.emotions,
        120_000,
      );
    } finally {
      await admin.disconnect();
    }

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
