import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { brokersSeen, KafkaBroker, type KafkaBrokerOptions } from './kafka-broker.js';
import { freePort } from './ports.js';

/**
 * A KRaft cluster of several nodes on 127.0.0.1 (issue 21: production runs on a cluster, and
 * nothing here had run on more than one broker): each node broker and controller, all three in
 * the controller quorum, from the same pinned jars. Internal topics keep three copies with two in
 * sync; the project's topics get the same from `topics create` (runtime/kafka/topics.ts).
 */
export class KafkaCluster {
  private constructor(readonly nodes: KafkaBroker[]) {}

  /** Every node's address, for KAFKA_BROKERS. */
  get bootstrap(): string {
    return this.nodes.map((node) => node.bootstrap).join(',');
  }

  static async start(
    options: Omit<KafkaBrokerOptions, 'preferredPort'> & { size: number },
  ): Promise<KafkaCluster> {
    const layouts = [];
    for (let nodeId = 1; nodeId <= options.size; nodeId++)
      layouts.push({ nodeId, port: await freePort(), controllerPort: await freePort() });
    const voters = layouts.map((l) => `${l.nodeId}@127.0.0.1:${l.controllerPort}`).join(',');
    const clusterId = randomBytes(16).toString('base64url');
    const all = layouts.map((l) => `127.0.0.1:${l.port}`);
    // A node is up once it answers and the cluster it sees has every node (the quorum formed).
    const ready = async (bootstrap: string) => (await brokersSeen(bootstrap)) === options.size;
    const started = await Promise.allSettled(
      layouts.map((layout) =>
        KafkaBroker.startNode(
          { ...options, dataDir: join(options.dataDir, `node-${layout.nodeId}`), clusterId, ready },
          { ...layout, voters, clusterSize: options.size },
        ),
      ),
    );
    const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      await Promise.allSettled(nodes.map((node) => node.kill()));
      throw (failed as PromiseRejectedResult).reason;
    }
    options.logger.info({ brokers: all }, 'kafka cluster ready');
    return new KafkaCluster(nodes);
  }

  /** Stops every node (in reverse order, the controllers' quorum last). */
  async stop(): Promise<void> {
    for (const node of [...this.nodes].reverse()) await node.stop();
  }
}
