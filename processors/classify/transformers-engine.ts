import { resolve } from 'node:path';
import { pipeline, type TextClassificationPipeline } from '@huggingface/transformers';
import type { Logger } from '../../runtime/logger.js';
import { locateHubModel } from '../shared/hub-model.js';
import { normalizeLanguage } from '../shared/language.js';
import { decideCore } from './decisions.js';
import type { ClassifyOptions, EmotionEngine, EmotionScores } from './engine.js';
import { assertTexts } from './engine.js';
import { buildLabelMap, isGoEmotionsLabelSet } from './label-map.js';
import { CORE_EMOTIONS, type CoreEmotion } from './labels.js';

export interface TransformersEngineOptions {
  /** A Hugging Face model id (downloaded when allowed) or a local directory in Hugging Face layout. */
  model: string;
  labelMap?: Record<string, string>;
  dtype?: string;
  allowRemote?: boolean;
  cacheDir?: string | undefined;
  device?: 'cpu' | 'cuda';
  /** Language of the texts the model was trained on, reported with each result. */
  language?: string;
  /** Score a core class must reach to be listed in `labels` (external models have no tuned thresholds). */
  threshold?: number;
  logger?: Logger;
}

type LabelScore = { label: string; score: number };

/**
 * Any Hugging Face text-classification model through transformers.js, its labels mapped onto the
 * core classes. Several labels of one class combine like probabilities do: summed for a softmax
 * model (the classes exclude each other), noisy-or for a multi-label model.
 */
export class TransformersEmotionEngine implements EmotionEngine {
  readonly name = 'transformers';

  private constructor(
    private readonly classifier: TextClassificationPipeline,
    private readonly labelMap: Map<string, CoreEmotion>,
    private readonly multiLabel: boolean,
    private readonly reportFine: boolean,
    private readonly options: TransformersEngineOptions,
    readonly modelName: string,
  ) {}

  static async load(options: TransformersEngineOptions): Promise<TransformersEmotionEngine> {
    const { id, where, local } = locateHubModel(options.model, options);
    let classifier: TextClassificationPipeline;
    try {
      classifier = (await pipeline('text-classification', id, {
        dtype: (options.dtype ?? 'fp32') as 'fp32',
        device: options.device ?? 'cpu',
      })) as unknown as TextClassificationPipeline;
    } catch (error) {
      throw new Error(`cannot load a text-classification model from ${where}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const config = classifier.model.config as unknown as {
      id2label?: Record<string, string>;
      problem_type?: string;
    };
    const labels = Object.values(config.id2label ?? {});
    const { map, unmapped } = buildLabelMap(labels, options.labelMap);
    if (map.size === 0) {
      throw new Error(
        `none of the model's labels (${labels.join(', ')}) maps onto a core class; set TRANSFORMERS_LABEL_MAP, e.g. LABEL_0=anger,LABEL_1=joy`,
      );
    }
    if (unmapped.length > 0) {
      // Visible, but not fatal: a model may have labels (e.g. "trust") outside the core set.
      options.logger?.warn(
        { unmapped },
        'transformers engine: labels not mapped to a core class are ignored',
      );
    }
    return new TransformersEmotionEngine(
      classifier,
      map,
      config.problem_type === 'multi_label_classification',
      isGoEmotionsLabelSet(labels),
      options,
      local ? resolve(options.model) : options.model,
    );
  }

  get languages(): readonly string[] {
    return [this.options.language ?? 'en'];
  }

  async run(texts: readonly string[], options: ClassifyOptions = {}): Promise<EmotionScores[]> {
    assertTexts(texts);
    if (texts.length === 0) return [];
    const hinted = options.lang === undefined ? null : normalizeLanguage(options.lang);
    const modelLanguage = this.options.language ?? 'en';
    const raw = (await this.classifier([...texts], { top_k: null })) as unknown as LabelScore[][];
    return raw.map((scores) => this.toEmotionScores(scores, hinted, modelLanguage));
  }

  private toEmotionScores(scores: LabelScore[], hinted: string | null, modelLanguage: string): EmotionScores {
    const raw = new Float64Array(CORE_EMOTIONS.length);
    const none = new Float64Array(CORE_EMOTIONS.length).fill(1);
    for (const { label, score } of scores) {
      const target = this.labelMap.get(label);
      if (!target) continue;
      const i = CORE_EMOTIONS.indexOf(target);
      if (this.multiLabel) none[i] = none[i]! * (1 - score);
      else raw[i] = raw[i]! + score;
    }
    if (this.multiLabel) for (let i = 0; i < raw.length; i++) raw[i] = 1 - none[i]!;
    const present = [...new Set(this.labelMap.values())]
      .map((e) => CORE_EMOTIONS.indexOf(e))
      .sort((a, b) => a - b);
    // External models have no tuned thresholds: one for every class (default 0.5, i.e. unchanged).
    const threshold = this.options.threshold ?? 0.5;
    const decision = decideCore(
      raw,
      present,
      CORE_EMOTIONS.map(() => threshold),
    );
    return {
      ...decision,
      fine: this.reportFine
        ? Object.fromEntries(scores.map(({ label, score }) => [label.toLowerCase(), score]))
        : null,
      language: modelLanguage,
      detectedLanguage: hinted,
      languageFallback: hinted !== null && hinted !== modelLanguage,
      model: { name: this.modelName, version: 'transformers.js', engine: 'transformers' },
      truncated: false,
    };
  }

  async close(): Promise<void> {
    await this.classifier.dispose();
  }
}
