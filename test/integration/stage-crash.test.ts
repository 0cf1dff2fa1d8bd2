import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { stackEnv, testStack } from '../support/stack.js';
import { FAST_STAGE_ENV, StageProcess, stageTopics } from '../support/stage.js';
import { produceValues, readTopic, textSegment, waitForGroupCaughtUp } from '../support/topics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: StageProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

describe('ExactlyOnceStage under SIGKILL', () => {
  it('produces every output exactly once while its processes are killed and restarted mid-stream', async () => {
    const stack = testStack();
    const { input, output, groupId } = await stageTopics(stack, 'crash', 6);
    const logDir = mkdtempSync(join(tmpdir(), 'stage-crash-'));
    const env = stackEnv({
      ...FAST_STAGE_ENV,
      FIXTURE_INPUT_TOPIC: input,
      FIXTURE_OUTPUT_TOPIC: output,
      FIXTURE_GROUP_ID: groupId,
      // Small, slow batches: the stream takes long enough for kills to land in the middle of it.
      STAGE_MAX_BATCH_RECORDS: '50',
      FIXTURE_DELAY_MS: '40',
      LOG_LEVEL: 'info',
    });
    for (let i = 0; i < 2; i++) {
      const stage = new StageProcess(env, join(logDir, `stage-${i}.log`));
      stage.start();
      processes.push(stage);
    }

    // Records keep arriving while the stage processes are being killed.
    const total = 10_000;
    const producing = (async () => {
      for (let start = 0; start < total; start += 500) {
        const ids = Array.from({ length: 500 }, (_, i) => `row-${start + i}`);
        await produceValues(
          stack.kafka,
          stack.registry,
          input,
          avroSchemas.TextSegment,
          ids.map((id) => ({ key: id, value: textSegment(id, `text of ${id}`) })),
        );
        await sleep(700);
      }
    })();

    let kills = 0;
    const random = mulberry32(20261126);
    await sleep(3000);
    while (kills < 4) {
      const victim = processes[Math.floor(random() * processes.length)]!;
      const result = await victim.kill('SIGKILL');
      expect(result, JSON.stringify({ result, pid: victim.pid })).toMatchObject({ signal: 'SIGKILL' });
      kills += 1;
      victim.start();
      await sleep(2500 + random() * 2500);
    }
    await producing;

    const admin = stack.kafka.admin();
    await admin.connect();
    await waitForGroupCaughtUp(admin, groupId, input, 180_000);
    await admin.disconnect();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));

    const records = await readTopic(stack.kafka, output);
    const decoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
    const counts = new Map<string, number>();
    for (const record of records) {
      const { id } = await decoder.decode(record.value);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const missing = Array.from({ length: total }, (_, i) => `row-${i}`).filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, count]) => count > 1);
    expect(kills).toBeGreaterThanOrEqual(3);
    expect({ missing: missing.length, duplicated: duplicated.length, logs: logDir }).toEqual({
      missing: 0,
      duplicated: 0,
      logs: logDir,
    });
    expect(records).toHaveLength(total);
    expect(await readTopic(stack.kafka, `${input}.dlq`)).toHaveLength(0);
  });
});

/** A small seeded PRNG, so a failing run can be repeated with the same kill timings. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
