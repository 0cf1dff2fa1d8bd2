import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { detectLanguage, groupIndices, normalizeLanguage } from '../shared/language.js';
import { BagOfWordsInputs } from './bag-of-words-inputs.js';
import { calibrate, decideCore, presentCoreClasses } from './decisions.js';
import type { ClassifyOptions, EmotionEngine, EmotionScores } from './engine.js';
import { assertTexts, ClassifyInputError } from './engine.js';
import { TextFeaturizer } from './featurizer.js';
import { CORE_EMOTIONS } from './labels.js';
import { type ModelDirectory, readModelDirectory, shippedModelsDir } from './model-directory.js';
import type { ModelInputs } from './model-inputs.js';
import type { ModelLabels } from './model-labels.js';
import { TokenInputs } from './token-inputs.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OnnxEngineOptions {
  /** Language → model directory (or shipped model code). Default: the shipped models of `tier`. */
  models?: Record<string, string>;
  /** Which shipped models serve when `models` is not given (default quality). */
  tier?: ModelTier;
  /** Model used for texts in languages without one of their own. */
  defaultLanguage?: string;
  executionProvider?: ExecutionProvider;
  /** Most texts in one ONNX run. */
  maxBatch?: number;
  /** Threads of one inference (1 suits one-core-per-process scaling). */
  intraOpThreads?: number;
}

/** One language's model, loaded: its ONNX session and what turns texts into its inputs. */
export class LoadedModel {
  private constructor(
    readonly directory: ModelDirectory,
    readonly inputs: ModelInputs,
    readonly session: ort.InferenceSession,
    /** labels.json `blend`: the partner whose probabilities are averaged with this model's. */
    readonly partner: { model: LoadedModel; coreWeight: number; fineWeight: number } | null,
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
    return new LoadedModel(directory, modelInputs(directory), session, await loadPartner(directory, options));
  }

  get labels(): ModelLabels {
    return this.directory.labels;
  }

  /** The bag-of-words tier's featurizer (training and parity checks read it); null for an encoder. */
  get featurizer(): TextFeaturizer | null {
    return this.inputs instanceof BagOfWordsInputs ? this.inputs.featurizer : null;
  }

  /** Raw core (and fine) probabilities of texts, in one ONNX run (and one of the partner's). */
  async score(
    texts: readonly string[],
  ): Promise<{ core: Float32Array; fine: Float32Array | null; truncated: boolean[] }> {
    const own = await this.scoreAlone(texts);
    if (!this.partner) return own;
    const other = await this.partner.model.scoreAlone(texts);
    const { coreWeight, fineWeight } = this.partner;
    const mix = (a: Float32Array, b: Float32Array, w: number) =>
      a.map((value, i) => w * value + (1 - w) * b[i]!);
    return {
      core: mix(own.core, other.core, coreWeight),
      fine: own.fine && other.fine ? mix(own.fine, other.fine, fineWeight) : own.fine,
      truncated: own.truncated,
    };
  }

  /** This model's own probabilities, without its partner's, in runs of at most `textsPerRun`. */
  async scoreAlone(
    texts: readonly string[],
  ): Promise<{ core: Float32Array; fine: Float32Array | null; truncated: boolean[] }> {
    const perRun = this.inputs.textsPerRun;
    if (texts.length <= perRun) return this.run(texts);
    const parts = [];
    for (let start = 0; start < texts.length; start += perRun)
      parts.push(await this.run(texts.slice(start, start + perRun)));
    const join = (arrays: Float32Array[]) => {
      const all = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
      let offset = 0;
      for (const a of arrays) {
        all.set(a, offset);
        offset += a.length;
      }
      return all;
    };
    return {
      core: join(parts.map((p) => p.core)),
      fine: parts[0]!.fine ? join(parts.map((p) => p.fine!)) : null,
      truncated: parts.flatMap((p) => p.truncated),
    };
  }

  private async run(texts: readonly string[]) {
    const { feeds, truncated } = this.inputs.prepare(texts);
    const output = await this.session.run(feeds);
    return {
      core: output.core!.data as Float32Array,
      fine: output.fine ? (output.fine.data as Float32Array) : null,
      truncated,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.partner?.model.close();
  }
}

async function loadPartner(
  directory: ModelDirectory,
  options: Pick<OnnxEngineOptions, 'executionProvider' | 'intraOpThreads'>,
): Promise<{ model: LoadedModel; coreWeight: number; fineWeight: number } | null> {
  const blend = directory.labels.blend;
  if (!blend) return null;
  const model = await LoadedModel.load(blend.model, options);
  if (model.labels.modelVersion !== blend.version || model.labels.blend) {
    await model.close();
    throw new Error(
      `${directory.dir}: blends with ${blend.model} ${blend.version}, but ${model.directory.dir} holds ${model.labels.modelVersion}`,
    );
  }
  if (model.labels.columns.join() !== directory.labels.columns.join()) {
    await model.close();
    throw new Error(`${directory.dir}: cannot blend with ${blend.model}: their output columns differ`);
  }
  return { model, coreWeight: blend.coreWeight, fineWeight: blend.fineWeight };
}

function modelInputs(directory: ModelDirectory): ModelInputs {
  if (directory.tokenizer) {
    const { file, configFile, maxTokens } = directory.tokenizer;
    return TokenInputs.load(file, configFile, maxTokens);
  }
  const featurizer = new TextFeaturizer(directory.featurizer!);
  if (!featurizer.idf)
    throw new Error(`${directory.dir}: featurizer.json has no idf table (not a trained model)`);
  return new BagOfWordsInputs(featurizer);
}

/** Raw probabilities → the engine-independent result: calibrated scores, shares, labels, sentiment. */
export function toEmotionScores(
  labels: ModelLabels,
  core: ArrayLike<number>,
  fine: ArrayLike<number> | null,
  extra: Pick<EmotionScores, 'detectedLanguage' | 'languageFallback' | 'truncated'>,
): EmotionScores {
  const decision = decideCore(core, presentCoreClasses(labels), labels.core.thresholds);
  let fineRecord: Record<string, number> | null = null;
  if (fine && labels.fine) {
    fineRecord = {};
    const { labels: names, thresholds } = labels.fine;
    for (let j = 0; j < names.length; j++) fineRecord[names[j]!] = calibrate(fine[j]!, thresholds[j]!);
  }
  return {
    ...decision,
    fine: fineRecord,
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
    const specs = options.models ?? shippedModels(options.tier);
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

  /** language → name@version of the model serving it. */
  get modelNames(): Record<string, string> {
    return Object.fromEntries(
      [...this.models].map(([language, m]) => [language, `${m.labels.name}@${m.labels.modelVersion}`]),
    );
  }

  model(language: string): LoadedModel | undefined {
    return this.models.get(language);
  }

  async run(texts: readonly string[], options: ClassifyOptions = {}): Promise<EmotionScores[]> {
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

  /** Scores the texts at `indices` with one model, in batches of similar length. */
  private async scoreGroup(
    model: LoadedModel,
    texts: readonly string[],
    indices: number[],
    detectedOf: (index: number) => string | null,
    results: EmotionScores[],
  ): Promise<void> {
    const order = indices.map((_, i) => i);
    // Similar lengths together: less padding in each batch.
    if (order.length > 1) order.sort((a, b) => texts[indices[a]!]!.length - texts[indices[b]!]!.length);
    const coreWidth = CORE_EMOTIONS.length;
    const fineWidth = model.labels.fine?.labels.length ?? 0;
    for (let start = 0; start < order.length; start += this.maxBatch) {
      const chunk = order.slice(start, start + this.maxBatch);
      const { core, fine, truncated } = await model.score(chunk.map((i) => texts[indices[i]!]!));
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
            truncated: truncated[row]!,
          },
        );
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((model) => model.close()));
  }
}

export const MODEL_TIERS = ['quality', 'fast'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/**
 * The shipped model directory of each language for a tier: `quality` takes a language's encoder
 * model (models/<lang>-encoder) where one exists, `fast` the bag-of-words one (models/<lang>).
 * Romanian has only its bag-of-words model: no multilingual encoder can be had here (issue 18).
 */
export function shippedModels(tier: ModelTier = 'quality'): Record<string, string> {
  const models: Record<string, string> = {};
  for (const language of ['en', 'ro']) {
    const codes = tier === 'quality' ? [`${language}-encoder`, language] : [language];
    const dir = codes
      .map((code) => join(shippedModelsDir(), code))
      .find((d) => existsSync(join(d, 'model.onnx')));
    if (dir) models[language] = dir;
  }
  return models;
}
