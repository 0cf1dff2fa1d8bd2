import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { UppercaseHandler } from '../fixtures/uppercase-handler.js';
import { testStack } from '../support/stack.js';
import { counterValue, inProcessStage, stageTopics } from '../support/stage.js';
import { produceValues, readTopic, textSegment, waitForGroupCaughtUp } from '../support/topics.js';

const stages: ExactlyOnceStage<TextSegment, TextSegment>[] = [];
afterEach(async () => {
  await Promise.all(stages.splice(0).map((stage) => stage.stop()));
});

describe('an engine that is down', () => {
  it('pauses the stage and retries with backoff: nothing is skipped or dead-lettered', async () => {
    const stack = testStack();
    const { input, output, groupId } = await stageTopics(stack, 'retry', 3);
    const downFile = join(mkdtempSync(join(tmpdir(), 'engine-')), 'down');
    writeFileSync(downFile, '');
    const { stage, metrics } = inProcessStage(stack, {
      input,
      output,
      groupId,
      handler: new UppercaseHandler(output, { engineDownFile: downFile }),
    });
    stages.push(stage);
    await stage.start();
    await produceValues(
      stack.kafka,
      stack.registry,
      input,
      avroSchemas.TextSegment,
      Array.from({ length: 300 }, (_, i) => ({ key: `r-${i}`, value: textSegment(`r-${i}`, `t ${i}`) })),
    );

    // While the engine is down, the stage keeps retrying and commits nothing.
    const deadline = Date.now() + 20_000;
    while ((await counterValue(metrics, 'stage_retries_total')) < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await counterValue(metrics, 'stage_retries_total')).toBeGreaterThanOrEqual(4);
    expect(await counterValue(metrics, 'stage_records_in_total')).toBe(0);
    expect(await readTopic(stack.kafka, output)).toHaveLength(0);

    rmSync(downFile);
    const admin = stack.kafka.admin();
    await admin.connect();
    await waitForGroupCaughtUp(admin, groupId, input, 60_000);
    await admin.disconnect();
    expect(await readTopic(stack.kafka, output)).toHaveLength(300);
    expect(await readTopic(stack.kafka, `${input}.dlq`)).toHaveLength(0);
    expect(await counterValue(metrics, 'stage_paused_partitions')).toBe(0);
  });
});
