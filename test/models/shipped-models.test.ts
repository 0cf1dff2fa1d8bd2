import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyHeads } from '../../processors/classify/linear-model.js';
import {
  MODEL_FILES,
  readModelDirectory,
  resolveModelDir,
} from '../../processors/classify/model-directory.js';
import { LoadedModel } from '../../processors/classify/onnx-engine.js';
import { defaultDatasetsDir, loadGoEmotions } from '../../training/datasets.js';
import { designMatrix } from '../../training/design-matrix.js';
import { readLinearWeights } from '../../training/onnx-model.js';

const CLI = ['--import', 'tsx', 'cli/run.ts'];

function evalJson(args: string[]) {
  const out = execFileSync(process.execPath, [...CLI, 'eval', ...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('shipped models', () => {
  it.each([
    ['en', 'goemotions', 'goemotions', 'core'],
    ['en', 'goemotions', 'goemotions', 'fine'],
    ['ro', 'red-ro/v1', 'red-v1', 'core'],
  ])('`eval --json` reproduces metrics.json of %s (%s, %s)', (model, data, format, task) => {
    const metrics = JSON.parse(readFileSync(join(resolveModelDir(model), MODEL_FILES.metrics), 'utf8'));
    const report = evalJson([
      '--model',
      model,
      '--data',
      join(defaultDatasetsDir(), data),
      '--format',
      format,
      '--task',
      task,
      '--split',
      'test',
    ]);
    expect(report).toEqual(metrics.test[task]);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['macroF1', 'accuracy', 'n', 'perClass']));
  });

  it('handles text unlike its training data without calling everything neutral', async () => {
    // Hand-written sentences (speech-like, chat-like), 10 per core class: not Reddit comments.
    const report = evalJson([
      '--model',
      'en',
      '--data',
      'test/fixtures/out-of-domain-en.csv',
      '--format',
      'csv',
    ]);
    expect(report.n).toBe(70);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.7);
    const neutral = report.perClass.neutral;
    // Predicted neutral = true positives / precision; at most half again the 10 true neutral texts.
    expect(Math.round((neutral.recall * neutral.support) / neutral.precision)).toBeLessThanOrEqual(25);
  });

  it.each(['en', 'ro'])(
    '%s: directory complete, at most 30 MB, loads in well under a second',
    async (language) => {
      const directory = readModelDirectory(language);
      const size = Object.values(MODEL_FILES).reduce(
        (sum, file) => sum + statSync(join(directory.dir, file)).size,
        0,
      );
      expect(size).toBeLessThanOrEqual(30e6);
      const card = readFileSync(join(directory.dir, MODEL_FILES.card), 'utf8');
      expect(card).toMatch(/## Data and license/);
      expect(card).toMatch(/## Limits/);
      if (language === 'ro') expect(card).toMatch(/no disgust or surprise examples/);
      const model = await LoadedModel.load(language);
      await model.close();
    },
  );

  it('serving (ONNX) computes what training computed: same featurizer, same weighting, same heads', async () => {
    const directory = readModelDirectory('en');
    const bytes = readFileSync(directory.modelFile);
    const weights = readLinearWeights(bytes);
    const model = await LoadedModel.load('en');
    const texts = loadGoEmotions(join(defaultDatasetsDir(), 'goemotions'), 'dev')
      .slice(0, 300)
      .map((e) => e.text);
    // Training's path: featurize, then the design-matrix row, then the linear layer and heads.
    const features = texts.map((t) => model.featurizer.featurize(t));
    const rows = designMatrix(features, model.featurizer.idf!, model.featurizer);
    const served = await model.score(texts.map((t) => model.featurizer.encode(t)));
    const k = weights.bias.length;
    let maxDifference = 0;
    for (let r = 0; r < rows.rows; r++) {
      const logits = Float32Array.from(weights.bias);
      for (let p = rows.indptr[r]!; p < rows.indptr[r + 1]!; p++) {
        for (let c = 0; c < k; c++)
          logits[c] = logits[c]! + weights.weights[rows.indices[p]! * k + c]! * rows.values[p]!;
      }
      const expected = applyHeads(logits, directory.labels);
      expected.core.forEach((value, c) => {
        maxDifference = Math.max(maxDifference, Math.abs(value - served.core[r * 7 + c]!));
      });
    }
    await model.close();
    expect(maxDifference).toBeLessThan(1e-5);
  });
});
