import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topIndex } from '../processors/classify/decisions.js';
import { encodeIdf, type FeaturizerConfig, TextFeaturizer } from '../processors/classify/featurizer.js';
import { CORE_EMOTIONS, FINE_EMOTIONS, FINE_TO_CORE } from '../processors/classify/labels.js';
import { applyHeads, type LinearWeights } from '../processors/classify/linear-model.js';
import { MODEL_FILES } from '../processors/classify/model-directory.js';
import type { ModelLabels } from '../processors/classify/model-labels.js';
import { LoadedModel } from '../processors/classify/onnx-engine.js';
import type { Logger } from '../runtime/logger.js';
import {
  defaultDatasetsDir,
  type Example,
  loadEkmanMapping,
  loadGoEmotions,
  loadRedV1,
  type Split,
} from './datasets.js';
import { designMatrix, inverseDocumentFrequency } from './design-matrix.js';
import { evaluateScores, goldLabels, scoreExamples, targetsOf } from './evaluate.js';
import { fitLanes, type Lane, type LaneResult } from './lane-trainer.js';
import { type EvaluationReport, tunedMacroF1, tuneThreshold } from './metrics.js';
import { writeModelCard } from './model-card.js';
import type { ModelMetrics } from './model-metrics.js';
import { buildOnnxModel } from './onnx-model.js';
import { RECIPES, type Recipe } from './recipes.js';

export type { ModelMetrics } from './model-metrics.js';

import type { CsrMatrix } from './sparse-matrix.js';

/** Progress of a long step, for a progress bar or a log line. */
export interface TrainingProgress {
  step(name: string, total: number): void;
  advance(done: number): void;
  end(): void;
}

export interface TrainOptions {
  language: 'en' | 'ro';
  outDir: string;
  datasetsDir?: string;
  seed?: number;
  workers?: number;
  logger: Logger;
  progress?: TrainingProgress;
  /** The command line that produced the model, recorded in metrics.json and the model card. */
  command?: string;
  /** More training examples (retraining: user feedback), added to the train split only. */
  extraTrain?: Example[];
  /** The release part of the model version (`<release>+<hash of the model>`); default 1.0.0. */
  release?: string;
}

/** One output column of the linear layer: which label it predicts and its training targets. */
interface Column {
  name: string;
  targets: Uint8Array;
  devTargets: Uint8Array;
}

const silentProgress: TrainingProgress = {
  step: () => undefined,
  advance: () => undefined,
  end: () => undefined,
};

function loadSplits(recipe: Recipe, datasetsDir: string): Record<Split, Example[]> {
  const splits: Split[] = ['train', 'dev', 'test'];
  if (recipe.dataset === 'goemotions') {
    const dir = join(datasetsDir, 'goemotions');
    // The dataset's own grouping must agree with the one serving uses for GoEmotions models.
    const mapping = loadEkmanMapping(dir);
    for (const fine of FINE_EMOTIONS) {
      if (mapping[fine] !== FINE_TO_CORE[fine])
        throw new Error(`ekman_mapping.json maps ${fine} to ${mapping[fine]}, not ${FINE_TO_CORE[fine]}`);
    }
    return Object.fromEntries(splits.map((s) => [s, loadGoEmotions(dir, s)])) as Record<Split, Example[]>;
  }
  const dir = join(datasetsDir, 'red-ro', 'v1');
  return Object.fromEntries(splits.map((s) => [s, loadRedV1(dir, s)])) as Record<Split, Example[]>;
}

/** logits of one fitted lane for every row of a matrix. */
function laneLogits(matrix: CsrMatrix, fit: LaneResult): Float32Array {
  const out = new Float32Array(matrix.rows);
  for (let r = 0; r < matrix.rows; r++) {
    let z = fit.bias;
    for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++)
      z += fit.weights[matrix.indices[k]!]! * matrix.values[k]!;
    out[r] = z;
  }
  return out;
}

function mix(a: Float32Array, b: Float32Array, weight: number): Float32Array {
  return Float32Array.from(a, (value, i) => weight * value + (1 - weight) * b[i]!);
}

/** `<release>+<first 12 hex digits of the model's sha256>`: the same bytes, the same version. */
export function contentVersion(model: Uint8Array, release = '1.0.0'): string {
  return `${release}+${createHash('sha256').update(model).digest('hex').slice(0, 12)}`;
}

/**
 * Trains the model of a language from the shared datasets, exports it and evaluates it: the model
 * directory (model.onnx, labels.json, featurizer.json, metrics.json, MODEL_CARD.md) is the result.
 * Hyper-parameters and thresholds are chosen on the development split; test is scored once, last.
 */
export async function trainModel(options: TrainOptions): Promise<ModelMetrics> {
  const recipe = RECIPES[options.language];
  const seed = options.seed ?? 1;
  const progress = options.progress ?? silentProgress;
  const { logger } = options;
  const data = loadSplits(recipe, options.datasetsDir ?? defaultDatasetsDir());
  // Dev and test stay the dataset's own, so versions with and without extra data compare fairly.
  data.train.push(...(options.extraTrain ?? []));
  logger.info(
    { train: data.train.length, dev: data.dev.length, test: data.test.length },
    `${recipe.name}: data loaded`,
  );

  const featurizerConfig = recipe.featurizer(seed);
  const featurizer = new TextFeaturizer(featurizerConfig);
  const featurize = (examples: Example[], name: string) => {
    progress.step(`featurize ${name}`, examples.length);
    const out = examples.map((e, i) => {
      if (i % 1000 === 0) progress.advance(i);
      return featurizer.featurize(e.text);
    });
    progress.advance(examples.length);
    progress.end();
    return out;
  };
  const trainFeatures = featurize(data.train, 'train');
  const devFeatures = featurize(data.dev, 'dev');
  const idf = inverseDocumentFrequency(trainFeatures, featurizer.dimension);
  const train = designMatrix(trainFeatures, idf, featurizer);
  const dev = designMatrix(devFeatures, idf, featurizer);

  // Output columns: the core classes the data has, then (GoEmotions) the 28 fine labels.
  const trainCore = goldLabels(recipe.dataset, 'core', data.train);
  const devCore = goldLabels(recipe.dataset, 'core', data.dev);
  const coreClasses = CORE_EMOTIONS.map((_, i) => i).filter((i) => trainCore.some((g) => g.includes(i)));
  const columns: Column[] = coreClasses.map((i) => ({
    name: `core:${CORE_EMOTIONS[i]}`,
    targets: targetsOf(trainCore, i),
    devTargets: targetsOf(devCore, i),
  }));
  const hasFine = recipe.dataset === 'goemotions';
  if (hasFine) {
    const trainFine = goldLabels(recipe.dataset, 'fine', data.train);
    const devFine = goldLabels(recipe.dataset, 'fine', data.dev);
    for (const [j, label] of FINE_EMOTIONS.entries()) {
      columns.push({
        name: `fine:${label}`,
        targets: targetsOf(trainFine, j),
        devTargets: targetsOf(devFine, j),
      });
    }
  }

  const lanes: Lane[] = columns.flatMap((column) => [
    { name: `${column.name}/lr`, targets: column.targets, C: recipe.logistic.C },
    {
      name: `${column.name}/nb`,
      targets: column.targets,
      C: recipe.naiveBayes.C,
      nbAlpha: recipe.naiveBayes.alpha,
    },
  ]);
  progress.step('fit logistic regressions', lanes.length);
  const fits = await fitLanes(train, lanes, {
    ...(options.workers ? { workers: options.workers } : {}),
    onDone: (_, done) => progress.advance(done),
  });
  progress.end();
  const notConverged = fits.filter((fit) => !fit.converged).map((fit) => fit.name);
  if (notConverged.length > 0)
    logger.warn({ lanes: notConverged }, 'some fits stopped at the iteration limit');

  // Choose the LR/NB-LR mix (and the fine share of core scores) on dev.
  const lrDev = columns.map((_, c) => laneLogits(dev, fits[2 * c]!));
  const nbDev = columns.map((_, c) => laneLogits(dev, fits[2 * c + 1]!));
  const coreCount = coreClasses.length;
  const fineIndices = columns.map((_, c) => c).filter((c) => c >= coreCount);
  let lrWeightFine: number | null = null;
  if (hasFine) {
    let best = Number.NEGATIVE_INFINITY;
    for (const weight of recipe.lrWeights) {
      const scores = fineIndices.map((c) =>
        Float32Array.from(mix(lrDev[c]!, nbDev[c]!, weight), (z) => 1 / (1 + Math.exp(-z))),
      );
      const f1 = tunedMacroF1(
        scores,
        fineIndices.map((c) => columns[c]!.devTargets),
      );
      logger.info({ lrWeight: weight, devFineMacroF1: Number(f1.toFixed(4)) }, 'fine head candidate');
      if (f1 > best + 1e-9) {
        best = f1;
        lrWeightFine = weight;
      }
    }
  }
  const provisionalLabels = (): ModelLabels => ({
    version: 1,
    name: recipe.name,
    modelVersion: 'provisional',
    language: recipe.language,
    columns: columns.map((c) => c.name),
    core: {
      activation: hasFine ? 'sigmoid' : 'softmax',
      columns: CORE_EMOTIONS.map((_, i) => (coreClasses.includes(i) ? coreClasses.indexOf(i) : null)),
      thresholds: CORE_EMOTIONS.map(() => 0.5),
    },
    fine: hasFine
      ? {
          labels: [...FINE_EMOTIONS],
          columns: fineIndices,
          thresholds: FINE_EMOTIONS.map(() => 0.5),
          coreOf: FINE_EMOTIONS.map((label) => CORE_EMOTIONS.indexOf(FINE_TO_CORE[label])),
        }
      : null,
  });
  let choice = { lrCore: recipe.lrWeights[0]!, score: Number.NEGATIVE_INFINITY };
  const labels = provisionalLabels();
  for (const lrCore of recipe.lrWeights) {
    const columnLogits = columns.map((_, c) =>
      mix(lrDev[c]!, nbDev[c]!, c < coreCount ? lrCore : (lrWeightFine ?? lrCore)),
    );
    const coreScores = coreClasses.map(() => new Float32Array(dev.rows));
    let correct = 0;
    for (let r = 0; r < dev.rows; r++) {
      const { core } = applyHeads(
        Float32Array.from(columnLogits, (column) => column[r]!),
        labels,
      );
      coreClasses.forEach((cls, k) => {
        coreScores[k]![r] = core[cls]!;
      });
      if (devCore[r]!.includes(topIndex(core, coreClasses, labels.core.thresholds))) correct++;
    }
    // Multi-label data is judged by macro-F1, single-label data (RED) by accuracy.
    const score = hasFine
      ? tunedMacroF1(
          coreScores,
          coreClasses.map((_, k) => columns[k]!.devTargets),
        )
      : correct / dev.rows;
    logger.info({ lrWeight: lrCore, devScore: Number(score.toFixed(4)) }, 'core head candidate');
    if (score > choice.score + 1e-9) choice = { lrCore, score };
  }

  // The final linear layer: per column, the chosen mix of the two fits (a logit average is linear).
  const k = columns.length;
  const dimension = featurizer.dimension;
  const weights = new Float32Array(dimension * k);
  const bias = new Float32Array(k);
  columns.forEach((_, c) => {
    const weight = c < coreCount ? choice.lrCore : (lrWeightFine ?? choice.lrCore);
    const lr = fits[2 * c]!;
    const nb = fits[2 * c + 1]!;
    for (let j = 0; j < dimension; j++)
      weights[j * k + c] = weight * lr.weights[j]! + (1 - weight) * nb.weights[j]!;
    bias[c] = weight * lr.bias + (1 - weight) * nb.bias;
  });
  const linear: LinearWeights = { weights, bias };

  mkdirSync(options.outDir, { recursive: true });
  const model = buildOnnxModel(linear, labels);
  labels.modelVersion = contentVersion(model, options.release);
  writeFileSync(join(options.outDir, MODEL_FILES.model), model);
  const exportedFeaturizer: FeaturizerConfig = { ...featurizerConfig, idf: encodeIdf(idf) };
  writeFileSync(
    join(options.outDir, MODEL_FILES.featurizer),
    `${JSON.stringify(exportedFeaturizer, null, 2)}\n`,
  );
  writeFileSync(join(options.outDir, MODEL_FILES.labels), `${JSON.stringify(labels, null, 2)}\n`);

  // Thresholds, tuned on dev with the exported (float16) model as served; the top label is the
  // highest calibrated score (decisions.ts), so the thresholds decide it too.
  let loaded = await LoadedModel.load(options.outDir);
  const devScores = await scoreExamples(
    loaded,
    data.dev.map((e) => e.text),
  );
  await loaded.close();
  labels.core.thresholds = CORE_EMOTIONS.map((_, i) =>
    coreClasses.includes(i)
      ? tuneThreshold(
          devScores.core.map((s) => s[i]!),
          targetsOf(devCore, i),
        )
      : 1,
  );
  if (labels.fine && devScores.fine) {
    const fine = labels.fine;
    fine.thresholds = fine.labels.map((_, j) =>
      tuneThreshold(
        devScores.fine!.map((s) => s[j]!),
        columns[fineIndices[j]!]!.devTargets,
      ),
    );
  }
  writeFileSync(join(options.outDir, MODEL_FILES.labels), `${JSON.stringify(labels, null, 2)}\n`);

  // Evaluate as `emotion-stream eval` will: dev for the record, test once.
  loaded = await LoadedModel.load(options.outDir);
  const evaluateSplit = async (split: 'dev' | 'test') => {
    const examples = data[split];
    progress.step(`evaluate ${split}`, examples.length);
    // One scoring serves both tasks.
    const scores = await scoreExamples(
      loaded,
      examples.map((e) => e.text),
      (done) => progress.advance(done),
    );
    progress.end();
    const reports: Partial<Record<'core' | 'fine', EvaluationReport>> = {
      core: evaluateScores(loaded.labels, recipe.dataset, 'core', examples, scores),
    };
    if (hasFine) reports.fine = evaluateScores(loaded.labels, recipe.dataset, 'fine', examples, scores);
    return reports;
  };
  const devReports = await evaluateSplit('dev');
  const testReports = await evaluateSplit('test');
  await loaded.close();

  const metrics: ModelMetrics = {
    model: { name: recipe.name, version: labels.modelVersion, language: recipe.language },
    dataset: recipe.dataset,
    command:
      options.command ??
      `emotion-stream train --lang ${recipe.language} --out ${options.outDir} --seed ${seed}`,
    seed,
    selection: {
      lrWeightCore: choice.lrCore,
      lrWeightFine,
    },
    examples: { train: data.train.length, dev: data.dev.length, test: data.test.length },
    dev: devReports,
    test: testReports,
    sizeBytes: model.length,
  };
  writeFileSync(join(options.outDir, MODEL_FILES.metrics), `${JSON.stringify(metrics, null, 2)}\n`);
  writeFileSync(join(options.outDir, MODEL_FILES.card), writeModelCard(recipe, labels, metrics));
  logger.info(
    {
      coreMacroF1: testReports.core?.macroF1,
      coreAccuracy: testReports.core?.accuracy,
      fineMacroF1: testReports.fine?.macroF1,
      version: labels.modelVersion,
    },
    `${recipe.name}: trained and evaluated on test`,
  );
  return metrics;
}
