import { Registry } from 'prom-client';
import type { Config } from '../../cli/config.js';
import { createPipelineTopics } from '../../cli/provision.js';
import { groupIdOf } from '../../runtime/kafka/group-ids.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { topicNames } from '../../schemas/index.js';
import { type TestStack, testStack, uniquePrefix } from './stack.js';
import { FAST_STAGE_ENV } from './stage.js';
import { readTopic, waitForGroupCaughtUp } from './topics.js';

/** A stack under a prefix of its own with every pipeline topic created. */
export async function pipelineStack(label: string, env: Record<string, string> = {}) {
  const prefix = uniquePrefix(label);
  const overrides = { TOPIC_PREFIX: prefix, ...FAST_STAGE_ENV, ...env };
  const stack = testStack(overrides);
  await createPipelineTopics(stack.config, stack.logger);
  return { stack, prefix, overrides, topics: topicNames(prefix) };
}

/** Services started in-process by a test, stopped together by its afterEach. */
export class TestServices {
  private readonly running: RunningService[] = [];

  async start<S extends RunningService>(
    stack: TestStack,
    startService: (context: ServiceContext<Config>) => Promise<S>,
  ): Promise<{ service: S; metrics: Registry }> {
    const metrics = new Registry();
    const service = await startService({ config: stack.config, logger: stack.logger, metrics });
    this.running.push(service);
    return { service, metrics };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((service) => service.stop()));
  }
}

/** Waits until a stage's group has committed everything on its input topic. */
export async function caughtUp(
  stack: TestStack,
  prefix: string,
  stage: string,
  topic: string,
  timeoutMs = 240_000,
) {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    await waitForGroupCaughtUp(admin, groupIdOf(prefix, stage), topic, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

/** Every committed value of a topic, decoded. */
export async function decodeAll<T>(stack: TestStack, topic: string, schema: object): Promise<T[]> {
  const decoder = new AvroDecoder<T>(stack.registry, schema);
  return Promise.all((await readTopic(stack.kafka, topic)).map((record) => decoder.decode(record.value)));
}
