import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kafkajsOf } from '../../runtime/kafka/client.js';
import { PartitionProducers } from '../../runtime/kafka/partition-producers.js';
import { stackEnv, testStack, uniquePrefix } from '../support/stack.js';
import { createTopics, readTopic } from '../support/topics.js';

/** Opens a transaction, writes into it, and dies by SIGKILL before committing. */
function crashMidTransaction(transactionalId: string, topic: string): Promise<NodeJS.Signals | null> {
  const script = `
    import { Kafka, logLevel } from 'kafkajs';
    const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: ${JSON.stringify(transactionalId)}, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic: ${JSON.stringify(topic)}, messages: [{ partition: 0, key: 'zombie', value: 'never committed' }] });
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...stackEnv() },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('transactional producer after a crash', () => {
  it('re-initialises the same transactional id while the dead transaction is still open, and aborts it', async () => {
    const stack = testStack();
    const prefix = uniquePrefix('txn');
    const topic = `${prefix}out`;
    await createTopics(stack.kafka, [{ name: topic, partitions: 1 }]);
    const producers = new PartitionProducers(stack.kafka, {
      transactionalIdPrefix: `${prefix}group`,
      transactionTimeoutMs: 60_000,
      logger: stack.logger,
    });
    expect(await crashMidTransaction(producers.transactionalId(topic, 0), topic)).toBe('SIGKILL');

    // The broker still holds the dead producer's open transaction (60 s timeout). Initialising the
    // same id must not fail with CONCURRENT_TRANSACTIONS; it aborts the old transaction instead.
    const startedAt = Date.now();
    await producers.ready(topic, 0);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    await producers.commit(
      topic,
      0,
      new Map([[topic, [{ partition: 0, key: 'successor', value: 'committed' }]]]),
      {
        groupId: `${prefix}group`,
        nextOffset: 1n,
      },
    );
    await producers.closeAll();

    const committed = await readTopic(stack.kafka, topic);
    expect(committed.map((r) => r.key)).toEqual(['successor']);
    // The zombie's write did reach the log; read_committed consumers just never see it.
    const uncommitted = kafkajsOf(stack.kafka).consumer({ groupId: `${prefix}raw`, readUncommitted: true });
    const keys: string[] = [];
    await uncommitted.connect();
    await uncommitted.subscribe({ topic, fromBeginning: true });
    await uncommitted.run({ eachMessage: async ({ message }) => void keys.push(String(message.key)) });
    const deadline = Date.now() + 15_000;
    while (keys.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await uncommitted.disconnect();
    expect(keys).toEqual(['zombie', 'successor']);
  });
});
