import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeIdf, type FeaturizerConfig, TextFeaturizer } from '../../processors/classify/featurizer.js';
import { CORE_EMOTIONS, FINE_EMOTIONS, FINE_TO_CORE } from '../../processors/classify/labels.js';
import { LinearEmotionModel } from '../../processors/classify/linear-model.js';
import type { ModelLabels } from '../../processors/classify/model-labels.js';
import { padBatch } from '../../processors/classify/onnx-batch.js';
import { buildOnnxModel, readLinearWeights } from '../../training/onnx-model.js';

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const featurizerConfig: FeaturizerConfig = {
  version: 1,
  normalize: {
    lowercase: true,
    stripDiacritics: false,
    collapseElongation: true,
    placeholders: {},
    maxChars: 1000,
  },
  words: { buckets: 512, maxN: 2, stemmer: 'porter', negationWords: ['not'], styleMarkers: true, seed: 7 },
  chars: { buckets: 1024, minN: 2, maxN: 5, seed: 11 },
};

const englishLike: ModelLabels = {
  version: 1,
  name: 'parity-en',
  modelVersion: 'test',
  language: 'en',
  columns: [...CORE_EMOTIONS.map((c) => `core:${c}`), ...FINE_EMOTIONS.map((f) => `fine:${f}`)],
  core: {
    activation: 'sigmoid',
    columns: CORE_EMOTIONS.map((_, i) => i),
    thresholds: CORE_EMOTIONS.map(() => 0.5),
    topLabel: 'score',
  },
  fine: {
    labels: [...FINE_EMOTIONS],
    columns: FINE_EMOTIONS.map((_, i) => CORE_EMOTIONS.length + i),
    thresholds: FINE_EMOTIONS.map(() => 0.5),
    coreOf: FINE_EMOTIONS.map((f) => CORE_EMOTIONS.indexOf(FINE_TO_CORE[f])),
  },
};

// Five classes, softmax, disgust and surprise absent: the shape of the Romanian model.
const romanianLike: ModelLabels = {
  version: 1,
  name: 'parity-ro',
  modelVersion: 'test',
  language: 'ro',
  columns: ['anger', 'fear', 'joy', 'sadness', 'neutral'],
  core: {
    activation: 'softmax',
    columns: [0, null, 1, 2, 4, 3, null],
    thresholds: CORE_EMOTIONS.map(() => 0.5),
    topLabel: 'score',
  },
  fine: null,
};

const texts = [
  'I am so happy for you!!',
  "This is NOT what I wanted, it's awful",
  'Soooo scared of the dark...',
  '',
  '   ',
  '🙂🙂🙂',
  'Mixed script: Привет мир and café déjà vu',
  'x'.repeat(3000),
];

async function compare(labels: ModelLabels, seed: number) {
  const rng = random(seed);
  const dimension = featurizerConfig.words.buckets + featurizerConfig.chars.buckets;
  const idf = Float32Array.from({ length: dimension }, () => 1 + 5 * rng());
  const featurizer = new TextFeaturizer({ ...featurizerConfig, idf: encodeIdf(idf) });
  const columns = labels.columns.length;
  const weights = {
    weights: Float32Array.from({ length: dimension * columns }, () => (rng() - 0.5) * 8),
    bias: Float32Array.from({ length: columns }, () => rng() - 0.5),
  };
  const bytes = buildOnnxModel(weights, labels);
  // The reference gets the weights as stored (float16), as a served model has them.
  const reference = new LinearEmotionModel(readLinearWeights(bytes), labels);
  const session = await ort.InferenceSession.create(bytes);
  const encoded = texts.map((text) => featurizer.encode(text));
  const batch = padBatch(encoded);
  const out = await session.run({
    indices: new ort.Tensor('int32', batch.indices, [batch.batch, batch.width]),
    values: new ort.Tensor('float32', batch.values, [batch.batch, batch.width]),
  });
  const core = out.core!.data as Float32Array;
  let maxDifference = 0;
  encoded.forEach((text, row) => {
    const expected = reference.scores(text);
    for (let c = 0; c < CORE_EMOTIONS.length; c++) {
      maxDifference = Math.max(
        maxDifference,
        Math.abs(core[row * CORE_EMOTIONS.length + c]! - expected.core[c]!),
      );
    }
    if (expected.fine) {
      const fine = out.fine!.data as Float32Array;
      expected.fine.forEach((value, j) => {
        maxDifference = Math.max(maxDifference, Math.abs(fine[row * expected.fine!.length + j]! - value));
      });
    }
  });
  return { maxDifference, core, reference, encoded };
}

describe('ONNX export', () => {
  it('computes the same scores as the TypeScript reference (sigmoid heads, core and fine)', async () => {
    for (const seed of [1, 2, 3]) {
      const { maxDifference } = await compare(englishLike, seed);
      expect(maxDifference).toBeLessThan(1e-5);
    }
  });

  it('computes the same scores as the TypeScript reference (softmax head, absent classes)', async () => {
    const { maxDifference, core } = await compare(romanianLike, 4);
    expect(maxDifference).toBeLessThan(1e-5);
    for (let row = 0; row < texts.length; row++) {
      const scores = Array.from(core.subarray(row * 7, row * 7 + 7));
      expect(scores[1]).toBe(0); // disgust
      expect(scores[6]).toBe(0); // surprise
      expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('gives an empty text the bias-only scores rather than NaN', async () => {
    const { reference, encoded } = await compare(englishLike, 5);
    const empty = reference.scores(encoded[3]!);
    expect(encoded[3]!.indices).toHaveLength(0);
    expect([...empty.core].every(Number.isFinite)).toBe(true);
  });
});
