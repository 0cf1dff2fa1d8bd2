import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { parseRegistryRef } from '../../processors/classify/model-registry.js';
import { compareWithShadow } from '../../processors/classify/shadow-comparison.js';
import { ConfigError } from '../../runtime/config/index.js';
import {
  colorOf,
  keyBucket,
  parseWeights,
  type RolloutPlan,
  weightsAt,
} from '../../runtime/rollout/rollout-plan.js';
import { rangeFileName } from '../../runtime/sink/offset-ranges.js';
import type { CoreEmotion } from '../../schemas/index.js';
import { emotionFileDir } from '../../sinks/blob/emotion-files.js';
import { trainingLabelOf } from '../../sinks/feedback/feedback-records.js';
import type { IndexedResult } from '../../sinks/feedback/result-index.js';
import { emotionResult } from '../support/blob.js';

describe('blob file names', () => {
  it('name a file by partition and offset range, sorting in offset order', () => {
    expect(rangeFileName(3, 120n, 4567n)).toBe('part-0003-00000000000000000120-00000000000000004567.jsonl');
    expect(rangeFileName(0, 9n, 10n) < rangeFileName(0, 11n, 12n)).toBe(true);
  });

  it('file results by UTC date of the record and URL-encoded stream id', () => {
    const result = emotionResult('s1', 'call/42 ä', 0);
    expect(emotionFileDir('emotions', result, Date.UTC(2026, 10, 26, 23, 59))).toBe(
      'emotions/dt=2026-11-26/stream=call%2F42%20%C3%A4',
    );
  });
});

describe('feedback training labels', () => {
  const result = { topLabel: 'joy' } as IndexedResult;
  it('teach the prediction when confirmed and the given label (mapped to its core class) when corrected', () => {
    expect(trainingLabelOf({ verdict: 'correct', label: null }, result).trainingLabel).toBe('joy');
    expect(trainingLabelOf({ verdict: 'wrong', label: 'grief' }, result).trainingLabel).toBe('sadness');
    expect(trainingLabelOf({ verdict: 'wrong', label: 'Fear' }, result).trainingLabel).toBe('fear');
  });
  it('say why a verdict teaches nothing', () => {
    expect(trainingLabelOf({ verdict: 'wrong', label: null }, result)).toEqual({
      trainingLabel: null,
      unusable: 'wrong, without the right label',
    });
    expect(trainingLabelOf({ verdict: 'correct', label: null }, null).unusable).toMatch(/not found/);
    expect(trainingLabelOf({ verdict: 'wrong', label: 'bliss' }, result).unusable).toBe(
      "unknown label 'bliss'",
    );
  });
});

describe('rollout plan', () => {
  const plan: RolloutPlan = {
    stage: 'classify',
    graceMs: 1000,
    changes: [
      { fromMs: 1000, weights: { blue: 80, green: 20 }, setAtMs: 0 },
      { fromMs: 5000, weights: { blue: 0, green: 100 }, setAtMs: 3000 },
    ],
  };

  it('hashes keys to stable buckets spread over 0–99', () => {
    expect(keyBucket('row-1')).toBe(keyBucket('row-1'));
    const buckets = Array.from({ length: 10_000 }, (_, i) => keyBucket(`row-${i}`));
    expect(Math.min(...buckets)).toBe(0);
    expect(Math.max(...buckets)).toBe(99);
    const below20 = buckets.filter((b) => b < 20).length / buckets.length;
    expect(below20).toBeGreaterThan(0.18);
    expect(below20).toBeLessThan(0.22);
  });

  it('decides by the weights in force at the record timestamp; all blue before any change', () => {
    expect(weightsAt(plan, 999)).toEqual({ blue: 100, green: 0 });
    expect(weightsAt(plan, 1000)).toEqual({ blue: 80, green: 20 });
    expect(weightsAt(plan, 5000)).toEqual({ blue: 0, green: 100 });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => keyBucket(k) >= 80)!;
    expect([colorOf(plan, key, 500), colorOf(plan, key, 2000), colorOf(plan, key, 6000)]).toEqual([
      'blue',
      'green',
      'green',
    ]);
    expect(colorOf(undefined, key, 2000)).toBe('blue');
  });

  it('parses weights and refuses ones that do not add up to 100', () => {
    expect(parseWeights('blue=80 green=20')).toEqual({ blue: 80, green: 20 });
    expect(parseWeights('green=5')).toEqual({ blue: 95, green: 5 });
    expect(() => parseWeights('blue=80 green=30')).toThrow(/add up to 100/);
    expect(() => parseWeights('red=10')).toThrow(/colour=percent/);
  });
});

describe('configuration of sinks and rollout', () => {
  it('refuses a container name Azure would refuse, and a grace not above the poll interval', () => {
    expect(() => loadConfig({ BLOB_CONTAINER: 'Emotion_Stream' })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLLOUT_POLL_MS: '5000', ROLLOUT_GRACE_MS: '5000' })).toThrow(
      /ROLLOUT_GRACE_MS/,
    );
    expect(() => loadConfig({ CLASSIFY_COLOR: 'red' })).toThrow(/CLASSIFY_COLOR/);
    expect(loadConfig({}).blob.container).toBe('emotion-stream');
  });

  it('reads registry model references', () => {
    expect(parseRegistryRef('registry:emotion-stream-ro@r1+abc')).toEqual({
      name: 'emotion-stream-ro',
      version: 'r1+abc',
    });
    expect(parseRegistryRef('registry:emotion-stream-ro')).toEqual({
      name: 'emotion-stream-ro',
      version: undefined,
    });
    expect(parseRegistryRef('registry:emotion-stream-ro@current')?.version).toBeUndefined();
    expect(parseRegistryRef('en')).toBeUndefined();
  });
});

describe('shadow comparison', () => {
  it('pairs results by segment and counts agreement per class', () => {
    const labels: CoreEmotion[] = ['joy', 'anger', 'fear'];
    const serving = labels.map((label, i) => emotionResult(`s${i}`, 'x', i, label));
    const shadow = [
      emotionResult('s0', 'x', 0, 'joy'),
      emotionResult('s1', 'x', 1, 'disgust'),
      emotionResult('s9', 'x', 9, 'joy'),
    ];
    const report = compareWithShadow(serving, shadow);
    expect(report).toMatchObject({ pairs: 2, servingOnly: 1, shadowOnly: 1, agreement: 0.5 });
    expect(report.perClass.joy).toEqual({ serving: 1, shadow: 1, agreed: 1 });
    expect(report.topChanges).toEqual([{ from: 'anger', to: 'disgust', count: 1 }]);
  });
});
