import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../runtime/package-root.js';
import type { FeaturizerConfig } from './featurizer.js';
import type { ModelLabels } from './model-labels.js';

/**
 * A model as shipped or trained: model.onnx, labels.json, metrics.json, MODEL_CARD.md, and what
 * turns texts into its inputs: featurizer.json (bag-of-words tier) or tokenizer.json +
 * tokenizer_config.json (encoder tier).
 */
export interface ModelDirectory {
  dir: string;
  modelFile: string;
  labels: ModelLabels;
  /** The bag-of-words tier's featurizer; null for a model that reads tokens. */
  featurizer: FeaturizerConfig | null;
  /** The encoder tier's tokenizer files; null for a bag-of-words model. */
  tokenizer: { file: string; configFile: string; maxTokens: number } | null;
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

/** The files of a model that reads tokens instead of featurizer.json. */
export const TOKENIZER_FILES = { tokenizer: 'tokenizer.json', config: 'tokenizer_config.json' } as const;

/** The files a model directory of either kind holds (what the registry copies). */
export function modelFilesOf(labels: ModelLabels): string[] {
  const { featurizer, ...common } = MODEL_FILES;
  return labels.inputs?.kind === 'tokens'
    ? [...Object.values(common), ...Object.values(TOKENIZER_FILES)]
    : [...Object.values(common), featurizer];
}

/** Where the models trained by this project live in the repository. */
export function shippedModelsDir(): string {
  return join(packageRoot(), 'processors', 'classify', 'models');
}

/** A shipped model's code ('en', 'en-encoder', 'ro') or a path to a model directory. */
export function resolveModelDir(spec: string): string {
  return /^[a-z]{2}(-[a-z]+)?$/.test(spec) ? join(shippedModelsDir(), spec) : resolve(spec);
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
  if (labels.version !== 1)
    throw new ModelDirectoryError(`${dir}: unsupported labels.json version (this build reads version 1)`);
  if (labels.inputs?.kind === 'tokens') {
    for (const file of Object.values(TOKENIZER_FILES)) {
      if (!existsSync(join(dir, file)))
        throw new ModelDirectoryError(`${dir} is not a model directory: ${file} is missing`);
    }
    return {
      dir,
      modelFile,
      labels,
      featurizer: null,
      tokenizer: {
        file: join(dir, TOKENIZER_FILES.tokenizer),
        configFile: join(dir, TOKENIZER_FILES.config),
        maxTokens: labels.inputs.maxTokens,
      },
    };
  }
  const featurizer = readJson<FeaturizerConfig>(dir, MODEL_FILES.featurizer);
  if (featurizer.version !== 1)
    throw new ModelDirectoryError(`${dir}: unsupported featurizer.json version (this build reads version 1)`);
  return { dir, modelFile, labels, featurizer, tokenizer: null };
}
