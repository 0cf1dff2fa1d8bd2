import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { createPipelineTopics } from '../../cli/provision.js';
import type { LogLevel } from '../../runtime/config/index.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { createLogger } from '../../runtime/logger.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { avroSchemas, type EmotionResult, topicNames } from '../../schemas/index.js';
import { readJsonLines, testBlobStore, uniqueContainer } from '../support/blob.js';
import { decodeAll } from '../support/pipeline.js';
import { uniquePrefix } from '../support/stack.js';
import { FAST_STAGE_ENV, StageProcess } from '../support/stage.js';
import { produceSegments, textSegment } from '../support/topics.js';
import { reportChaos, tally } from './chaos-report.js';
import { FaultyStack } from './faulty-stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logger = createLogger({
  level: (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent',
  name: 'chaos',
});
let stack: FaultyStack;
const processes: StageProcess[] = [];
let stopping = false;
/** Exits seen by the supervisor below: services that gave up on an unreachable dependency. */
let restarts = 0;
/** Each exit's service and the last errors it logged, for an assertion that counts them. */
let exitReasons: string[] = [];

/**
 * Starts a service and, as `emotion-stream up` and Kubernetes do, starts it again a second after
 * it exits: a service that cannot reach Kafka for long exits and relies on that.
 */
function supervise(name: string, service: StageProcess): void {
  const run = () => {
    service.start();
    void service.exited.then(async () => {
      if (stopping) return;
      restarts += 1;
      exitReasons.push(`${name} exited; its last errors:\n${service.lastErrors().join('\n')}`);
      await sleep(1000);
      if (!stopping) run();
    });
  };
  run();
}

beforeAll(async () => {
  stack = await FaultyStack.start(logger);
}, 300_000);
afterEach(async () => {
  stopping = true;
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
  stopping = false;
  restarts = 0;
  exitReasons = [];
});
afterAll(async () => {
  await stack?.stop();
});

/** Until the service runs, through the supervisor's restarts if its first start fails. */
async function untilServing(service: StageProcess): Promise<void> {
  for (;;) {
    const serving = await Promise.race([service.serving.then(() => true), service.exited.then(() => false)]);
    if (serving) return;
    await sleep(1500);
  }
}

/** The three text stages and the blob sink as processes of their own, on the faulty stack. */
async function pipeline(label: string) {
  const overrides = {
    ...stack.env(),
    ...FAST_STAGE_ENV,
    TOPIC_PREFIX: uniquePrefix(label),
    BLOB_CONTAINER: uniqueContainer(label),
    SINK_FLUSH_INTERVAL_MS: '500',
    LOG_LEVEL: 'info',
  };
  const config = loadConfig({ ...process.env, ...overrides });
  await createPipelineTopics(config, logger);
  const clients = {
    config,
    logger,
    kafka: createKafka(config.kafka, logger, 'chaos-test'),
    registry: new SchemaRegistryClient(config.schemaRegistry),
  };
  const logDir = mkdtempSync(join(tmpdir(), `chaos-${label}-`));
  const services = new Map<string, StageProcess>();
  for (const [name, args] of [
    ['correct', ['stage', 'correct']],
    ['translate', ['stage', 'translate']],
    ['classify', ['stage', 'classify']],
    ['blob-sink', ['sink', 'blob']],
  ] as const) {
    const service = new StageProcess(overrides, join(logDir, `${name}.log`), ['cli/run.ts', ...args]);
    supervise(name, service);
    processes.push(service);
    services.set(name, service);
  }
  // Faults hit a running pipeline: a service still starting when Kafka goes away exits by design
  // (its supervisor starts it again), which this suite would count against the run-time path. A
  // slow start of correct (its dictionaries) on a busy machine once did exactly that.
  await Promise.all([...services.values()].map(untilServing));
  const topics = topicNames(config.topics.prefix);
  let produced = 0;
  const ids: string[] = [];
  /** Rows onto segments.raw, retried until it works (as a producer waiting out an outage). */
  const produce = async (count: number) => {
    const rows = Array.from({ length: count }, (_, k) =>
      textSegment(`row-${produced + k}`, 'I am so happy today'),
    );
    produced += count;
    for (;;) {
      try {
        await produceSegments(clients, topics.segmentsRaw, rows);
        ids.push(...rows.map((row) => row.id));
        return;
      } catch {
        await sleep(1000);
      }
    }
  };
  /** Waits until every produced row has a result in Kafka and in Blob; their tallies. */
  const settle = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    const store = await testBlobStore(config);
    let kafka = tally(ids, []);
    let blob = tally(ids, []);
    while (Date.now() < deadline) {
      try {
        const results = await decodeAll<EmotionResult>(clients, topics.emotions, avroSchemas.EmotionResult);
        kafka = tally(
          ids,
          results.map((result) => result.segmentId),
        );
        const lines = await readJsonLines<EmotionResult>(store, `${topics.emotions}/`);
        blob = tally(
          ids,
          lines.map((line) => line.value.segmentId),
        );
        if (kafka.lost === 0 && blob.lost === 0) break;
      } catch {
        // A component still coming back.
      }
      await sleep(2000);
    }
    return { kafka, blob, settledAt: Date.now() };
  };
  /** Waits until the blob sink has written at least `count` results. */
  const untilBlobHas = async (count: number) => {
    const store = await testBlobStore(config);
    const deadline = Date.now() + 120_000;
    while ((await readJsonLines<EmotionResult>(store, `${topics.emotions}/`)).length < count) {
      if (Date.now() > deadline) throw new Error(`the blob sink wrote fewer than ${count} results in 120 s`);
      await sleep(500);
    }
  };
  return { services, produce, settle, untilBlobHas, ids };
}

function report(
  scenario: string,
  faults: string,
  records: number,
  result: Awaited<ReturnType<Awaited<ReturnType<typeof pipeline>>['settle']>>,
  faultEndedAt: number,
) {
  faults = `${faults}; ${restarts} exits (kills included) restarted by the supervisor`;
  reportChaos({
    scenario: `${scenario}, results in Kafka`,
    faults,
    records,
    ...result.kafka,
    recoveryMs: result.settledAt - faultEndedAt,
  });
  reportChaos({
    scenario: `${scenario}, files in Blob`,
    faults,
    records,
    ...result.blob,
    recoveryMs: result.settledAt - faultEndedAt,
  });
}

describe('chaos: the stack fails under a running pipeline', () => {
  it('loses and repeats nothing when the Kafka broker restarts mid-stream', {
    timeout: 600_000,
  }, async () => {
    const run = await pipeline('broker');
    await run.produce(8000);
    await sleep(3000);
    await stack.stopKafka();
    await sleep(5000);
    await stack.startKafka();
    const backAt = Date.now();
    await run.produce(2000);
    const result = await run.settle(180_000);
    const exits = restarts;
    report('Kafka broker restarted', 'broker down 5 s mid-stream', run.ids.length, result, backAt);
    expect(result.kafka).toEqual({ lost: 0, duplicated: 0 });
    expect(result.blob).toEqual({ lost: 0, duplicated: 0 });
    // Every stage and the sink rode the outage out in-process: none exited.
    expect(exits, exitReasons.join('\n')).toBe(0);
  });

  it('waits out the schema registry down for 30 s, a stage restarted and a producer started meanwhile', {
    timeout: 600_000,
  }, async () => {
    const run = await pipeline('registry');
    await run.produce(4000);
    await sleep(2000);
    await stack.stopRegistry();
    const downAt = Date.now();
    // A classify restarted during the outage needs the registry to read what it consumes, and a
    // new producer needs it to encode: both must wait, not fail or skip.
    await run.services.get('classify')!.kill('SIGKILL');
    const producing = run.produce(2000);
    await sleep(30_000 - (Date.now() - downAt));
    await stack.startRegistry();
    const backAt = Date.now();
    await producing;
    const result = await run.settle(180_000);
    report(
      'schema registry down',
      'registry down 30 s, classify SIGKILLed in it',
      run.ids.length,
      result,
      backAt,
    );
    expect(result.kafka).toEqual({ lost: 0, duplicated: 0 });
    expect(result.blob).toEqual({ lost: 0, duplicated: 0 });
  });

  it('retries the blob sink through 30 s without Azurite and writes no result twice', {
    timeout: 600_000,
  }, async () => {
    const run = await pipeline('azurite');
    await run.produce(3000);
    // The outage begins once the sink is writing files, so it strikes a sink mid-stream.
    await run.untilBlobHas(1000);
    await stack.stopBlob();
    const downAt = Date.now();
    await run.produce(3000);
    await sleep(30_000 - (Date.now() - downAt));
    await stack.startBlob();
    const backAt = Date.now();
    const result = await run.settle(180_000);
    report('Azurite down', 'Azurite down 30 s', run.ids.length, result, backAt);
    expect(result.kafka).toEqual({ lost: 0, duplicated: 0 });
    expect(result.blob).toEqual({ lost: 0, duplicated: 0 });
  });
});
