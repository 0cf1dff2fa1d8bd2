import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassifyService } from '../../processors/classify/service.js';
import type { ShadowComparison } from '../../processors/classify/shadow-comparison.js';
import { colorOf, type RolloutPlan } from '../../runtime/rollout/rollout-plan.js';
import { changeRolloutWeights } from '../../runtime/rollout/rollout-plans.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type EmotionResult, type TextSegment } from '../../schemas/index.js';
import { testBlobStore, uniqueContainer } from '../support/blob.js';
import { relabelledModel } from '../support/models.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv, testStack } from '../support/stack.js';
import { produceSegments, readTopic, textSegment, waitForRecords } from '../support/topics.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const services = new TestServices();
afterEach(() => services.stopAll());

const TEXTS = [
  'I am so happy for you, this is wonderful news!',
  'This is disgusting, I hate it.',
  'I am terrified of what comes next.',
  'Why would they do that? I am furious.',
  'I miss her so much, it hurts.',
  'Wow, I did not expect that at all!',
  'The meeting is at ten tomorrow.',
];

describe('blue/green rollout of the classify stage', () => {
  it('classifies every record exactly once by the colour its key and timestamp give, through an 80/20 split and a live switch to 0/100; a shadow deployment is compared', async () => {
    const rolloutEnv = {
      BLOB_CONTAINER: uniqueContainer('rollout'),
      ROLLOUT_POLL_MS: '200',
      ROLLOUT_GRACE_MS: '1500',
    };
    const { stack, prefix, overrides, topics } = await pipelineStack('rollout', rolloutEnv);
    const store = await testBlobStore(stack.config);
    const stage = `${prefix}classify`;

    let plan: RolloutPlan = await changeRolloutWeights(store, {
      stage,
      weights: { blue: 80, green: 20 },
      graceMs: 1500,
      note: 'canary',
    });
    const blue = testStack({ ...overrides, CLASSIFY_COLOR: 'blue' });
    const green = testStack({
      ...overrides,
      CLASSIFY_COLOR: 'green',
      CLASSIFY_MODELS: `en=${relabelledModel('en', 'green-2')},ro=ro`,
    });
    // The shadow runs a genuinely different model (Romanian weights on English text): it must disagree somewhere.
    const shadow = testStack({ ...overrides, CLASSIFY_SHADOW: 'true', CLASSIFY_MODELS: 'en=ro,ro=ro' });
    for (const deployment of [blue, green, shadow]) await services.start(deployment, startClassifyService);
    await sleep(Math.max(0, plan.changes[0]!.fromMs - Date.now()) + 100);

    const produce = async (from: number, count: number) => {
      const segments = Array.from({ length: count }, (_, k) => {
        const i = from + k;
        return textSegment(`row-${i}`, TEXTS[i % TEXTS.length]!, i);
      });
      await produceSegments(stack, topics.segmentsTranslated, segments);
    };
    // 5,000 records at 80/20.
    for (let start = 0; start < 5000; start += 500) await produce(start, 500);
    // 2,000 more while the weights switch to 0/100.
    for (let start = 5000; start < 7000; start += 200) {
      await produce(start, 200);
      if (start === 5000) {
        plan = await changeRolloutWeights(store, { stage, weights: { blue: 0, green: 100 }, graceMs: 1500 });
      }
      await sleep(250);
    }
    const switchAt = plan.changes[1]!.fromMs;

    const decoder = new AvroDecoder<EmotionResult>(stack.registry, avroSchemas.EmotionResult);
    const results = await Promise.all(
      (await waitForRecords(stack.kafka, topics.emotions, 7000, 180_000)).map((r) => decoder.decode(r.value)),
    );
    const inputs = await readTopic(stack.kafka, topics.segmentsTranslated);
    const segmentDecoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
    const expected = new Map<string, { color: string; timestamp: number }>();
    for (const input of inputs) {
      const segment = await segmentDecoder.decode(input.value);
      expected.set(segment.id, {
        color: colorOf(plan, input.key!, input.timestamp),
        timestamp: input.timestamp,
      });
    }

    const colorOfResult = (r: EmotionResult) =>
      r.trace.some((s) => s.stage === 'classify-green') ? 'green' : 'blue';
    const bySegment = new Map<string, EmotionResult[]>();
    for (const result of results)
      bySegment.set(result.segmentId, [...(bySegment.get(result.segmentId) ?? []), result]);
    expect({ results: results.length, segments: bySegment.size }).toEqual({ results: 7000, segments: 7000 });
    expect([...bySegment.values()].filter((list) => list.length > 1)).toEqual([]);
    const misrouted = results.filter((r) => colorOfResult(r) !== expected.get(r.segmentId)!.color);
    expect(misrouted).toEqual([]);
    // Green serves its own model version; blue the shipped one.
    expect(new Set(results.filter((r) => colorOfResult(r) === 'green').map((r) => r.model.version))).toEqual(
      new Set(['green-2']),
    );

    const canary = results.filter((r) => expected.get(r.segmentId)!.timestamp < switchAt);
    const greenShare = canary.filter((r) => colorOfResult(r) === 'green').length / canary.length;
    expect(greenShare).toBeGreaterThan(0.15);
    expect(greenShare).toBeLessThan(0.25);
    const afterSwitch = results.filter((r) => expected.get(r.segmentId)!.timestamp >= switchAt);
    expect(afterSwitch.length).toBeGreaterThan(200);
    expect(afterSwitch.every((r) => colorOfResult(r) === 'green')).toBe(true);

    // Shadow: every record into emotions.shadow, then `emotion-stream compare`.
    await waitForRecords(stack.kafka, topics.emotionsShadow, 7000, 120_000);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/run.ts', 'compare', '--json'], {
      env: { ...process.env, ...stackEnv(overrides), LOG_LEVEL: 'warn' },
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ShadowComparison;
    expect(report).toMatchObject({ pairs: 7000, servingOnly: 0, shadowOnly: 0 });
    expect(report.agreement).toBeGreaterThan(0);
    expect(report.agreement).toBeLessThan(1);
    expect(report.topChanges.length).toBeGreaterThan(0);
    expect(Object.values(report.perClass).reduce((sum, c) => sum + c.shadow, 0)).toBe(7000);
    expect(report.versions.shadow).toEqual([expect.stringMatching(/^emotion-stream-ro@/)]);
    process.stdout.write(
      `rollout: ${canary.length} records at 80/20, ${(100 * greenShare).toFixed(1)}% green; ` +
        `${afterSwitch.length} after the switch to 0/100, all green; 0 lost, 0 duplicated; ` +
        `shadow agreement ${(100 * report.agreement).toFixed(1)}%\n`,
    );
  });
});
