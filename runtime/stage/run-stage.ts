import { deadLetterTopicOf, subjectOf } from '../../schemas/topics.js';
import { createKafka } from '../kafka/client.js';
import { groupIdOf } from '../kafka/group-ids.js';
import { StageMetrics } from '../metrics/stage-metrics.js';
import { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { RunningService, ServiceContext } from '../service.js';
import { ExactlyOnceStage } from './exactly-once-stage.js';
import type { ChangelogState } from './keyed-state.js';
import type { StageHandler } from './types.js';

/** What `startStage` runs: the stage's name, the topic it reads, the topics it writes, its handler. */
export interface StageOptions<In, Out> {
  name: string;
  input: { topic: string; schema: object };
  outputs: Array<{ topic: string; schema: object }>;
  handler: StageHandler<In, Out>;
  /** Defaults to groupIdOf(prefix, name): `<prefix>emotion-stream.<name>`. */
  groupId?: string;
  /** A bounded run: per input partition, the offset to stop before (see ExactlyOnceStage). */
  endOffsets?: ReadonlyMap<number, bigint>;
  /** The handler's keyed state (see ChangelogState). */
  state?: ReadonlyArray<ChangelogState<unknown>>;
  /** A replay: records' spans start linked traces (see ExactlyOnceStageOptions). */
  linkTraces?: boolean;
}

/** Wires a stage from the service context: Kafka client, registry, metrics, dead-letter topic. */
export async function startStage<In, Out>(
  context: ServiceContext,
  options: StageOptions<In, Out>,
): Promise<RunningService & { stage: ExactlyOnceStage<In, Out> }> {
  const { config, logger, metrics } = context;
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const stage = new ExactlyOnceStage<In, Out>({
    name: options.name,
    groupId: options.groupId ?? groupIdOf(config.topics.prefix, options.name),
    input: options.input,
    deadLetterTopic: deadLetterTopicOf(options.input.topic),
    outputs: options.outputs.map((output) => ({ ...output, subject: subjectOf(output.topic) })),
    handler: options.handler,
    kafka: createKafka(config.kafka, logger, options.name),
    registry,
    logger,
    metrics: new StageMetrics(metrics),
    settings: config.stage,
    ...(options.endOffsets ? { endOffsets: options.endOffsets } : {}),
    ...(options.state ? { state: options.state } : {}),
    ...(options.linkTraces ? { linkTraces: true } : {}),
  });
  await stage.start();
  return {
    stage,
    checks: {
      kafka: () => stage.isReady(),
      registry: () => registry.ping().then(() => true),
      // A held partition is input the stage will not process until an operator acts.
      'input readable': () => stage.heldPartitions().length === 0,
    },
    stop: () => stage.stop(),
    failed: stage.failed,
  };
}
