import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassifyService } from '../../processors/classify/service.js';
import { groupIdOf } from '../../runtime/kafka/group-ids.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type EmotionResult } from '../../schemas/index.js';
import { killCliProcesses, runCli } from '../support/cli.js';
import { relabelledModel } from '../support/models.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { produceSegments, readTopic, textSegment, waitForRecords } from '../support/topics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const services = new TestServices();
afterEach(async () => {
  killCliProcesses();
  await services.stopAll();
});

describe('replay and offsets reset', () => {
  it('reprocesses a time range with a new model version exactly once, also when killed and resumed', async () => {
    const { stack, overrides, topics } = await pipelineStack('replay');
    await services.start(stack, startClassifyService);
    const produce = async (prefix: string, count: number) => {
      const segments = Array.from({ length: count }, (_, i) =>
        textSegment(`${prefix}-${i}`, i % 2 ? 'I am so angry about this!' : 'What a lovely morning.', i),
      );
      await produceSegments(stack, topics.segmentsTranslated, segments);
    };
    await produce('before', 1000);
    await sleep(1500);
    const from = Date.now();
    await produce('range', 3000);
    await sleep(1500);
    const to = Date.now();
    await produce('after', 500);
    await waitForRecords(stack.kafka, topics.emotions, 4500, 120_000);

    const env = stackEnv(overrides);
    const args = [
      'replay',
      '--stage',
      'classify',
      '--from',
      new Date(from).toISOString(),
      '--to',
      new Date(to).toISOString(),
      '--model',
      `en=${relabelledModel('en', 'replayed-2')},ro=ro`,
    ];
    // Killed once it has committed part of the range (small transactions make that last a while),
    // then run again: it resumes its own group.
    const admin = stack.kafka.admin();
    await admin.connect();
    const sum = (offsets: Array<{ offset: string }>) =>
      offsets.reduce((total, p) => total + Math.max(0, Number(p.offset)), 0);
    const rangeStart = sum(await admin.fetchTopicOffsetsByTimestamp(topics.segmentsTranslated, from));
    const killMidway = async (child: ChildProcess) => {
      while (child.exitCode === null && child.signalCode === null) {
        const group = (await admin.listGroups()).groups.find((g) =>
          g.groupId.includes('emotion-stream.replay-classify-'),
        );
        if (group) {
          const [committed] = await admin.fetchOffsets({
            groupId: group.groupId,
            topics: [topics.segmentsTranslated],
          });
          const at = sum(committed!.partitions);
          if (at > rangeStart + 100 && at < rangeStart + 2900) {
            child.kill('SIGKILL');
            return;
          }
        }
        await sleep(50);
      }
    };
    const killed = await runCli(args, { ...env, STAGE_MAX_BATCH_RECORDS: '5' }, killMidway);
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const resumed = await runCli(args, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming an earlier run');
    expect(resumed.stdout).toMatch(/models +emotion-stream-en@replayed-2/);
    // It stopped at --to: the 500 records after it were never read (issue 21), and its group's
    // offsets end exactly where the range does.
    expect(resumed.stdout).toContain(', 0 outside the time range');
    const rangeEnd = sum(await admin.fetchTopicOffsetsByTimestamp(topics.segmentsTranslated, to));
    const replayGroup = (await admin.listGroups()).groups.find((g) =>
      g.groupId.includes('emotion-stream.replay-classify-'),
    )!;
    const [replayCommitted] = await admin.fetchOffsets({
      groupId: replayGroup.groupId,
      topics: [topics.segmentsTranslated],
    });
    expect(sum(replayCommitted!.partitions)).toBe(rangeEnd);

    const decoder = new AvroDecoder<EmotionResult>(stack.registry, avroSchemas.EmotionResult);
    const results = await Promise.all(
      (await waitForRecords(stack.kafka, topics.emotions, 7500, 60_000)).map((r) => decoder.decode(r.value)),
    );
    const replayed = results.filter((r) => r.model.version === 'replayed-2');
    const counts = new Map<string, number>();
    for (const r of replayed) counts.set(r.segmentId, (counts.get(r.segmentId) ?? 0) + 1);
    expect({
      replayed: replayed.length,
      segments: counts.size,
      duplicated: [...counts.values()].filter((n) => n > 1).length,
    }).toEqual({
      replayed: 3000,
      segments: 3000,
      duplicated: 0,
    });
    expect([...counts.keys()].every((id) => id.startsWith('range-'))).toBe(true);
    // The originals stay: every segment still has its result by the shipped model.
    expect(results.filter((r) => r.model.version !== 'replayed-2')).toHaveLength(4500);

    // The same replay again: already done, nothing written.
    const again = await runCli(args, env);
    expect(again.stdout).toContain('already finished');
    expect((await readTopic(stack.kafka, topics.emotions)).length).toBe(7500);

    // offsets reset refuses a live group, then moves a stopped one to a time.
    const group = groupIdOf(overrides.TOPIC_PREFIX, 'classify');
    const live = await runCli(
      ['offsets', 'reset', '--group', group, '--to-time', new Date(from).toISOString()],
      env,
    );
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/active member\(s\); stop its instances first/);
    await services.stopAll();
    const reset = await runCli(
      ['offsets', 'reset', '--group', group, '--to-time', new Date(from).toISOString()],
      env,
    );
    expect(reset.code, reset.stderr).toBe(0);
    try {
      const expected = await admin.fetchTopicOffsetsByTimestamp(topics.segmentsTranslated, from);
      const committed = (
        await admin.fetchOffsets({ groupId: group, topics: [topics.segmentsTranslated] })
      )[0]!.partitions;
      expect(committed.map((p) => [p.partition, p.offset]).sort()).toEqual(
        expected.map((p) => [p.partition, p.offset]).sort(),
      );
      // 1000 records before the time on 6 partitions: the group now starts after them.
      expect(expected.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(1000);
    } finally {
      await admin.disconnect();
    }
  });
});
