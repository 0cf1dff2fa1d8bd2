import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { detectLanguage, groupIndices, normalizeLanguage } from '../shared/language.js';
import { presentCoreClasses, topIndex } from './decisions.js';
import type { ClassifyOptions, EmotionEngine, EmotionScores } from './engine.js';
import { assertTexts, ClassifyInputError } from './engine.js';
import { type EncodedText, TextFeaturizer } from './featurizer.js';
import { CORE_EMOTIONS, type CoreEmotion } from './labels.js';
import { type ModelDirectory, readModelDirectory, shippedModelsDir } from './model-directory.js';
import type { ModelLabels } from './model-labels.js';
import { padBatch } from './onnx-batch.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OnnxEngineOptions {
  /** Language → model directory (or shipped model code). Default: every model shipped with the project. */
  models?: Record<string, string>;
  /** Model used for texts in languages without one of their own. */
  defaultLanguage?: string;
  executionProvider?: ExecutionProvider;
  /** Most texts in one ONNX run. */
  maxBatch?: number;
  /** Threads of one inference (1 suits one-core-per-process scaling). */
  intraOpThreads?: number;
}

/** One language's model, loaded. */
export class LoadedModel {
  private constructor(
    readonly directory: ModelDirectory,
    readonly featurizer: TextFeaturizer,
    readonly session: ort.InferenceSession,
  ) {}

  static async load(
    spec: string,
    options: Pick<OnnxEngineOptions, 'executionProvider' | 'intraOpThreads'> = {},
  ) {
    const directory = readModelDirectory(spec);
    const provider = options.executionProvider ?? 'cpu';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(directory.modelFile, {
        executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      const hint =
        provider === 'cuda'
          ? ' (the CUDA execution provider needs onnxruntime-node installed with its CUDA binaries on a GPU machine)'
          : '';
      throw new Error(`cannot load ${directory.modelFile}${hint}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const featurizer = new TextFeaturizer(directory.featurizer);
    if (!featurizer.idf)
      throw new Error(`${directory.dir}: featurizer.json has no idf table (not a trained model)`);
    return new LoadedModel(directory, featurizer, session);
  }

  get labels(): ModelLabels {
    return this.directory.labels;
  }

  /** Core (and fine) scores of encoded texts, batched. */
  async score(texts: readonly EncodedText[]): Promise<{ core: Float32Array; fine: Float32Array | null }> {
    const batch = padBatch(texts);
    const output = await this.session.run({
      indices: new ort.Tensor('int32', batch.indices, [batch.batch, batch.width]),
      values: new ort.Tensor('float32', batch.values, [batch.batch, batch.width]),
    });
    return {
      core: output.core!.data as Float32Array,
      fine: output.fine ? (output.fine.data as Float32Array) : null,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Scores → the engine-independent result, with labels over threshold and the top label. */
export function toEmotionScores(
  labels: ModelLabels,
  core: ArrayLike<number>,
  fine: ArrayLike<number> | null,
  extra: Pick<EmotionScores, 'detectedLanguage' | 'languageFallback' | 'truncated'>,
): EmotionScores {
  // A literal in CORE_EMOTIONS order: one object shape for every result.
  const coreRecord: Record<CoreEmotion, number> = {
    anger: core[0]!,
    disgust: core[1]!,
    fear: core[2]!,
    joy: core[3]!,
    neutral: core[4]!,
    sadness: core[5]!,
    surprise: core[6]!,
  };
  const present = presentCoreClasses(labels);
  const thresholds = labels.core.thresholds;
  const passing: CoreEmotion[] = [];
  for (const i of present) if (core[i]! >= thresholds[i]!) passing.push(CORE_EMOTIONS[i]!);
  let fineRecord: Record<string, number> | null = null;
  if (fine && labels.fine) {
    fineRecord = {};
    const names = labels.fine.labels;
    for (let j = 0; j < names.length; j++) fineRecord[names[j]!] = fine[j]!;
  }
  return {
    core: coreRecord,
    fine: fineRecord,
    topLabel: CORE_EMOTIONS[topIndex(core, present, thresholds, labels.core.topLabel)]!,
    labels: passing,
    language: labels.language,
    model: { name: labels.name, version: labels.modelVersion, engine: 'onnx' },
    ...extra,
  };
}

/**
 * The default engine: the project's own models through onnxruntime-node, one per language, texts
 * routed by their language (given or detected) and scored in batches.
 */
export class OnnxEmotionEngine implements EmotionEngine {
  readonly name = 'onnx';

  private constructor(
    private readonly models: Map<string, LoadedModel>,
    private readonly defaultLanguage: string,
    private readonly maxBatch: number,
  ) {}

  static async load(options: OnnxEngineOptions = {}): Promise<OnnxEmotionEngine> {
    const specs = options.models ?? shippedModels();
    const defaultLanguage = options.defaultLanguage ?? 'en';
    if (!specs[defaultLanguage]) {
      throw new Error(
        `no model for the default language '${defaultLanguage}' (models: ${Object.keys(specs).join(', ') || 'none'})`,
      );
    }
    const loaded = new Map<string, LoadedModel>();
    for (const [language, spec] of Object.entries(specs))
      loaded.set(language, await LoadedModel.load(spec, options));
    return new OnnxEmotionEngine(loaded, defaultLanguage, options.maxBatch ?? 256);
  }

  get languages(): readonly string[] {
    return [...this.models.keys()];
  }

  model(language: string): LoadedModel | undefined {
    return this.models.get(language);
  }

  async classify(texts: readonly string[], options: ClassifyOptions = {}): Promise<EmotionScores[]> {
    assertTexts(texts);
    const hinted = options.lang === undefined ? undefined : normalizeLanguage(options.lang);
    if (hinted === null) {
      throw new ClassifyInputError(`'${options.lang}' is not a language code (use ISO 639-1, e.g. en or ro)`);
    }
    const results = new Array<EmotionScores>(texts.length);
    if (hinted !== undefined) {
      // One language for the whole call: no detection, one group.
      const language = this.models.has(hinted) ? hinted : this.defaultLanguage;
      const all = texts.map((_, index) => index);
      await this.scoreGroup(this.models.get(language)!, texts, all, () => hinted, results);
      return results;
    }
    // Route each text to the model of its language, or the default model (flagged).
    const preferred = this.languages;
    const detected = texts.map((text) => detectLanguage(text, preferred));
    const modelLanguages = detected.map((language) =>
      language && this.models.has(language) ? language : this.defaultLanguage,
    );
    for (const [language, indices] of groupIndices(modelLanguages)) {
      await this.scoreGroup(this.models.get(language)!, texts, indices, (index) => detected[index]!, results);
    }
    return results;
  }

  /** Encodes and scores the texts at `indices` with one model, in batches of similar length. */
  private async scoreGroup(
    model: LoadedModel,
    texts: readonly string[],
    indices: number[],
    detectedOf: (index: number) => string | null,
    results: EmotionScores[],
  ): Promise<void> {
    const encoded = indices.map((index) => model.featurizer.encode(texts[index]!));
    const order = indices.map((_, i) => i);
    // Similar lengths together: less padding in each batch.
    if (order.length > 1) order.sort((a, b) => encoded[a]!.indices.length - encoded[b]!.indices.length);
    const coreWidth = CORE_EMOTIONS.length;
    const fineWidth = model.labels.fine?.labels.length ?? 0;
    for (let start = 0; start < order.length; start += this.maxBatch) {
      const chunk = order.slice(start, start + this.maxBatch);
      const { core, fine } = await model.score(chunk.map((i) => encoded[i]!));
      chunk.forEach((i, row) => {
        const index = indices[i]!;
        const detected = detectedOf(index);
        results[index] = toEmotionScores(
          model.labels,
          core.subarray(row * coreWidth, (row + 1) * coreWidth),
          fine ? fine.subarray(row * fineWidth, (row + 1) * fineWidth) : null,
          {
            detectedLanguage: detected,
            languageFallback: detected !== null && detected !== model.labels.language,
            truncated: encoded[i]!.truncated,
          },
        );
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((model) => model.close()));
  }
}

/** language → directory of every model shipped in processors/classify/models/. */
export function shippedModels(): Record<string, string> {
  const models: Record<string, string> = {};
  for (const language of ['en', 'ro']) {
    const dir = join(shippedModelsDir(), language);
    if (existsSync(join(dir, 'model.onnx'))) models[language] = dir;
  }
  return models;
}
