import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, deadLetterMessage, headersAsStrings } from '../../runtime/kafka/dead-letter.js';
import { REDRIVEN_FROM_HEADER } from '../../runtime/kafka/dlq-redrive.js';
import { RecordProducer } from '../../runtime/kafka/record-producer.js';
import { deadLetterTopicOf } from '../../schemas/index.js';
import { killCliProcesses, runCli } from '../support/cli.js';
import { pipelineStack } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { readTopic } from '../support/topics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
afterEach(() => {
  killCliProcesses();
});

describe('dlq redrive', () => {
  it('sends dead letters back to their topic exactly once, as they were, also when killed and resumed', async () => {
    const { stack, overrides, topics } = await pipelineStack('dlq-redrive');
    const origin = topics.segmentsRaw;
    const dlq = deadLetterTopicOf(origin);
    // 1,000 records a stage gave up on (as its dead-letter code writes them), each with a header of
    // its own that must survive the trip.
    const producer = await RecordProducer.connect(stack.kafka);
    const letters = Array.from({ length: 1000 }, (_, i) =>
      deadLetterMessage(
        { stage: 'correct', instanceId: 'test', topic: origin, partition: i % 6 },
        {
          key: Buffer.from(`key-${i}`),
          value: Buffer.from(`payload-${i}`),
          headers: { traceparent: `00-${String(i).padStart(32, '0')}-00f067aa0ba902b7-01` },
          offset: String(i),
          timestamp: String(Date.now()),
          attributes: 0,
        } as never,
        Object.assign(new Error('the LLM corrector was down'), { name: 'RetryableError' }),
        'TRANSFORMATION',
      ),
    );
    for (let i = 0; i < letters.length; i += 100) await producer.send(dlq, letters.slice(i, i + 100));
    await producer.close();
    const env = stackEnv(overrides);

    const dry = await runCli(['dlq', 'redrive', '--topic', 'segments.raw', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`1000 dead letters in ${dlq} (dry run: nothing sent)`);
    expect(dry.stdout).toContain(`1000  ${origin} (RetryableError)`);
    expect(await readTopic(stack.kafka, origin)).toHaveLength(0);

    // Killed once it has sent part of the range (small transactions make that last a while).
    const admin = stack.kafka.admin();
    await admin.connect();
    const killMidway = async (child: ChildProcess) => {
      while (child.exitCode === null && child.signalCode === null) {
        const group = (await admin.listGroups()).groups.find((g) => g.groupId.includes('dlq-redrive-'));
        if (group) {
          const [committed] = await admin.fetchOffsets({ groupId: group.groupId, topics: [dlq] });
          const at = committed!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
          if (at > 50 && at < 950) {
            child.kill('SIGKILL');
            return;
          }
        }
        await sleep(30);
      }
    };
    const args = ['dlq', 'redrive', '--topic', 'segments.raw'];
    const killed = await runCli(args, { ...env, STAGE_MAX_BATCH_RECORDS: '5' }, killMidway);
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const resumed = await runCli(args, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming an earlier run');
    await admin.disconnect();

    const back = await readTopic(stack.kafka, origin);
    const values = back.map((r) => r.value!.toString());
    expect(values).toHaveLength(1000);
    expect(new Set(values).size).toBe(1000);
    for (const record of back) {
      const headers = headersAsStrings(record.headers);
      const i = Number(record.value!.toString().slice('payload-'.length));
      expect(record.key!.toString()).toBe(`key-${i}`);
      expect(headers.traceparent).toBe(`00-${String(i).padStart(32, '0')}-00f067aa0ba902b7-01`);
      expect(headers[REDRIVEN_FROM_HEADER]).toMatch(new RegExp(`^${dlq.replace(/\./g, '\\.')}/\\d/\\d+$`));
      for (const name of Object.values(DLQ_HEADERS)) expect(headers[name]).toBeUndefined();
    }

    // The same redrive again: done, nothing sent.
    const again = await runCli(args, env);
    expect(again.stdout).toContain('already finished');
    expect(await readTopic(stack.kafka, origin)).toHaveLength(1000);
  });
});
