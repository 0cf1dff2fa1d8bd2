import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { toProduce } from '../../runtime/kafka/platformatic-records.js';
import { initTransactions, transactionalProducer } from '../../runtime/kafka/transactional-producer.js';
import { stackEnv, testStack, uniquePrefix } from '../support/stack.js';
import { createTopics, readTopic } from '../support/topics.js';

/** Opens a transaction, writes into it, and dies by SIGKILL before committing. */
function crashMidTransaction(transactionalId: string, topic: string): Promise<NodeJS.Signals | null> {
  const script = `
    import { Producer } from '@platformatic/kafka';
    const producer = new Producer({
      clientId: 'zombie',
      bootstrapBrokers: process.env.KAFKA_BROKERS.split(','),
      transactionalId: ${JSON.stringify(transactionalId)},
      idempotent: true,
    });
    const transaction = await producer.beginTransaction();
    await transaction.send({ messages: [{ topic: ${JSON.stringify(topic)}, partition: 0, key: Buffer.from('zombie'), value: Buffer.from('never committed') }] });
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
    const transactionalId = `${prefix}group-in-0`;
    expect(await crashMidTransaction(transactionalId, topic)).toBe('SIGKILL');

    // The broker still holds the dead producer's open transaction (60 s timeout). A new producer of
    // the same id must start (the client's default InitProducerId, producer id 0, is refused with
    // PRODUCER_FENCED here) and abort the old transaction instead of waiting it out.
    const startedAt = Date.now();
    const producer = transactionalProducer(stack.kafka, transactionalId, 60_000);
    await initTransactions(producer);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    const transaction = await producer.beginTransaction();
    await transaction.send({
      messages: [toProduce(topic, { partition: 0, key: 'successor', value: 'committed' })],
    });
    await transaction.commit();
    await producer.close();

    const committed = await readTopic(stack.kafka, topic);
    expect(committed.map((r) => r.key)).toEqual(['successor']);
    // The zombie's write did reach the log; read_committed consumers just never see it.
    const keys = (await readTopic(stack.kafka, topic, 15_000, { readUncommitted: true })).map((r) => r.key);
    expect(keys).toEqual(['zombie', 'successor']);
  });
});

describe('read_committed readers', () => {
  it('skip every aborted transaction of a producer, however many share one fetch', async () => {
    const stack = testStack();
    const prefix = uniquePrefix('aborts');
    const topic = `${prefix}out`;
    await createTopics(stack.kafka, [{ name: topic, partitions: 1 }]);
    const producer = transactionalProducer(stack.kafka, `${prefix}txn`, 60_000);
    await initTransactions(producer);
    // One producer id: aborted, committed, aborted, committed (as a stage instance's own
    // transactions around a rebalance).
    const outcomes = ['abort', 'commit', 'abort', 'commit'] as const;
    for (const [n, outcome] of outcomes.entries()) {
      const transaction = await producer.beginTransaction();
      await transaction.send({
        messages: [0, 1, 2].map((i) =>
          toProduce(topic, { partition: 0, key: `${outcome}-${n}-${i}`, value: outcome }),
        ),
      });
      if (outcome === 'abort') await transaction.abort();
      else await transaction.commit();
    }
    await producer.close();
    const keys = (await readTopic(stack.kafka, topic)).map((r) => r.key);
    expect(keys).toEqual([
      'commit-1-0',
      'commit-1-1',
      'commit-1-2',
      'commit-3-0',
      'commit-3-1',
      'commit-3-2',
    ]);
  });
});
