import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { assertKafkaSendFix } from '../../runtime/kafka/client.js';

/**
 * kafkajs' send path with the project's fix (deploy/patches/kafkajs/sendMessages.js), driven by a
 * cluster whose leaders move between attempts: the case that lost a producer batch on every
 * rolling restart of the 3-broker suite (issue 21). The brokers are fakes that answer as Kafka
 * does (a produce response per partition, NOT_LEADER_OR_FOLLOWER as a retriable protocol error).
 */

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages.js');
const createRetry = require('kafkajs/src/retry');
const { createErrorFromCode } = require('kafkajs/src/protocol/error');
const NOT_LEADER_OR_FOLLOWER = 6;

interface Message {
  key: string;
  value: string;
}
/** A produce request as kafkajs' sendMessages builds it (src/producer/createTopicData.js). */
interface ProduceRequest {
  topicData: Array<{
    topic: string;
    partitions: Array<{ partition: number; firstSequence: number; messages: Message[] }>;
  }>;
}
interface Produced {
  nodeId: number;
  topic: string;
  partition: number;
  firstSequence: number;
  keys: string[];
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A topic `t` with two partitions; `leaders` says which node leads each, and may change. */
function fakeCluster(
  leaders: Map<number, number | null>,
  produce: (nodeId: number, request: ProduceRequest) => Promise<void>,
) {
  const produced: Produced[] = [];
  const brokers = new Map<number, object>();
  const brokerFor = (nodeId: number) => {
    if (!brokers.has(nodeId)) {
      brokers.set(nodeId, {
        nodeId,
        async produce(request: ProduceRequest) {
          await produce(nodeId, request);
          for (const { topic, partitions } of request.topicData)
            for (const entry of partitions)
              produced.push({
                nodeId,
                topic,
                partition: entry.partition,
                firstSequence: entry.firstSequence,
                keys: entry.messages.map((m) => m.key),
              });
          return {
            topics: request.topicData.map(({ topic, partitions }) => ({
              topicName: topic,
              partitions: partitions.map((entry) => ({
                partition: entry.partition,
                errorCode: 0,
                baseOffset: '0',
              })),
            })),
          };
        },
      });
    }
    return brokers.get(nodeId)!;
  };
  const cluster = {
    targetTopics: new Set<string>(),
    refreshes: 0,
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {
      cluster.refreshes += 1;
    },
    async addMultipleTargetTopics() {},
    isConnected: () => true,
    removeBroker() {},
    async connect() {},
    findTopicPartitionMetadata: () =>
      [...leaders].map(([partitionId, leader]) => ({ partitionId, leader: leader ?? undefined })),
    findLeaderForPartitions(_topic: string, partitions: string[]) {
      const result: Record<number, number[]> = {};
      for (const id of partitions) {
        const leader = leaders.get(Number(id));
        if (leader == null) continue;
        result[leader] = [...(result[leader] ?? []), Number(id)];
      }
      return result;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokerFor(Number(nodeId)),
  };
  const sequences = new Map<string, number>();
  const eosManager = {
    isTransactional: () => false,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    async acquireBrokerLock() {},
    async releaseBrokerLock() {},
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}:${partition}`) ?? 0,
    updateSequence(topic: string, partition: number, increment: number) {
      sequences.set(`${topic}:${partition}`, (sequences.get(`${topic}:${partition}`) ?? 0) + increment);
    },
  };
  const send = createSendMessages({
    logger: silent,
    cluster,
    eosManager,
    partitioner: ({ message }: { message: Message }) => Number(message.key.split('-')[0]),
    retrier: createRetry({ retries: 5, initialRetryTime: 5, maxRetryTime: 20 }),
  });
  return { send, produced, cluster };
}

const messages: Message[] = [
  { key: '0-a', value: 'x' },
  { key: '0-b', value: 'x' },
  { key: '1-a', value: 'x' },
  { key: '1-b', value: 'x' },
];

describe('kafkajs send with the per-partition acknowledgement fix', () => {
  it('is installed: createKafka refuses an unpatched kafkajs, and applying the fixes again changes nothing', () => {
    expect(() => assertKafkaSendFix()).not.toThrow();
    const again = spawnSync(process.execPath, ['deploy/patches/apply.mjs'], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    for (const file of ['src/producer/sendMessages.js', 'src/network/requestQueue/index.js']) {
      expect(readFileSync(require.resolve(`kafkajs/${file}`), 'utf8')).toMatch(
        /^\/\/ emotion-stream patch: /,
      );
    }
  });

  it('sends a partition whose leader moved to a broker that already answered, once, with its first sequence', async () => {
    // Partition 0 on node 1, partition 1 on node 2; node 2 shuts down mid-send and its partition
    // moves to node 1, which has already acknowledged partition 0.
    const leaders = new Map<number, number | null>([
      [0, 1],
      [1, 2],
    ]);
    const { send, produced } = fakeCluster(leaders, async (nodeId) => {
      if (nodeId === 2) {
        leaders.set(1, 1);
        throw createErrorFromCode(NOT_LEADER_OR_FOLLOWER);
      }
    });
    const answers = await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages }] });

    expect(answers.map((a: { partition: number }) => a.partition).sort()).toEqual([0, 1]);
    expect(produced).toEqual([
      { nodeId: 1, topic: 't', partition: 0, firstSequence: 0, keys: ['0-a', '0-b'] },
      // Before the fix nothing was sent here and the send still resolved: 2 rows lost.
      { nodeId: 1, topic: 't', partition: 1, firstSequence: 0, keys: ['1-a', '1-b'] },
    ]);
  });

  it('waits for a partition without a leader instead of dropping it', async () => {
    const leaders = new Map<number, number | null>([
      [0, 1],
      [1, null],
    ]);
    const { send, produced, cluster } = fakeCluster(leaders, async () => {});
    // The election ends after the first metadata refresh.
    const refresh = cluster.refreshMetadata;
    cluster.refreshMetadata = async () => {
      await refresh();
      leaders.set(1, 3);
    };
    await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages }] });

    expect(produced.map((p) => [p.nodeId, p.partition, p.keys.length])).toEqual([
      [1, 0, 2],
      [3, 1, 2],
    ]);
  });

  it('gives a failed request its sequence numbers back, so the retry is deduplicated by the broker', async () => {
    const leaders = new Map<number, number | null>([
      [0, 1],
      [1, 1],
    ]);
    let failures = 1;
    const { send, produced } = fakeCluster(leaders, async () => {
      if (failures-- > 0) throw createErrorFromCode(NOT_LEADER_OR_FOLLOWER);
    });
    await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages }] });
    await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages: messages.slice(0, 1) }] });

    expect(produced.map((p) => [p.partition, p.firstSequence])).toEqual([
      [0, 0],
      [1, 0],
      [0, 2],
    ]);
  });
});

describe("kafkajs' grouping of a producer batch by partition (deploy/patches/kafkajs/groupMessagesPerPartition.js)", () => {
  const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js');

  it('is the patched, linear version', () => {
    const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
    expect(readFileSync(path, 'utf8').split('\n', 1)[0]).toBe(
      '// emotion-stream patch: linear grouping (deploy/patches/README.md)',
    );
  });

  it("keeps each partition's messages in the order given, keyed by partition", () => {
    const batch = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: String(i % 3) }));
    const grouped: Record<string, Message[]> = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages: batch,
      partitioner: ({ message }: { message: Message }) => Number(message.value),
    });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const partition of ['0', '1', '2']) {
      expect(grouped[partition]).toEqual(batch.filter((m) => m.value === partition));
    }
    expect(
      groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: batch, partitioner: () => 0 }),
    ).toEqual({});
  });
});
