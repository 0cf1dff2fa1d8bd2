import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../runtime/package-root.js';
import type { FeaturizerConfig } from './featurizer.js';
import type { ModelLabels } from './model-labels.js';

/** A model as shipped or trained: model.onnx, labels.json, featurizer.json, metrics.json, MODEL_CARD.md. */
export interface ModelDirectory {
  dir: string;
  modelFile: string;
  labels: ModelLabels;
  featurizer: FeaturizerConfig;
}

export class ModelDirectoryError extends Error {
  override readonly name = 'ModelDirectoryError';
}

export const MODEL_FILES = {
  model: 'model.onnx',
  labels: 'labels.json',
  featurizer: 'featurizer.json',
  metrics: 'metrics.json',
  card: 'MODEL_CARD.md',
} as const;

/** Where the models trained by this project live in the repository. */
export function shippedModelsDir(): string {
  return join(packageRoot(), 'processors', 'classify', 'models');
}

/** A language code of a shipped model ('en', 'ro') or a path to a model directory. */
export function resolveModelDir(spec: string): string {
  return /^[a-z]{2}$/.test(spec) ? join(shippedModelsDir(), spec) : resolve(spec);
}

function readJson<T>(dir: string, file: string): T {
  const path = join(dir, file);
  if (!existsSync(path)) throw new ModelDirectoryError(`${dir} is not a model directory: ${file} is missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new ModelDirectoryError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export function readModelDirectory(spec: string): ModelDirectory {
  const dir = resolveModelDir(spec);
  if (!existsSync(dir)) throw new ModelDirectoryError(`model directory not found: ${dir}`);
  const modelFile = join(dir, MODEL_FILES.model);
  if (!existsSync(modelFile))
    throw new ModelDirectoryError(`${dir} is not a model directory: ${MODEL_FILES.model} is missing`);
  const labels = readJson<ModelLabels>(dir, MODEL_FILES.labels);
  const featurizer = readJson<FeaturizerConfig>(dir, MODEL_FILES.featurizer);
  if (labels.version !== 1 || featurizer.version !== 1) {
    throw new ModelDirectoryError(
      `${dir}: unsupported labels/featurizer version (this build reads version 1)`,
    );
  }
  return { dir, modelFile, labels, featurizer };
}
