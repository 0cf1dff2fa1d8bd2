import type { CoreEmotion } from './labels.js';

/**
 * labels.json: what the model's output columns mean and how they become the 7 core scores (and the
 * fine-grained ones). Arrays under `core` follow CORE_EMOTIONS order.
 */
export interface ModelLabels {
  version: 1;
  /** Model name and version, as they appear in every EmotionResult. */
  name: string;
  modelVersion: string;
  /** ISO 639-1 language of the texts the model was trained on. */
  language: string;
  /**
   * What the model reads: hashed TF-IDF features (featurizer.json; the default) or WordPiece tokens
   * (tokenizer.json), cut at maxTokens.
   */
  inputs?: { kind: 'bag-of-words' } | { kind: 'tokens'; maxTokens: number };
  /**
   * A partner model whose probabilities are averaged with this one's (same core and fine columns):
   * this model's share is coreWeight (fineWeight for the fine labels), the partner's the rest. The
   * partner is named by its shipped code and pinned by version; the thresholds below are tuned on
   * the blend (issue 18: the encoder blended with the bag-of-words model beats either alone on dev).
   */
  blend?: { model: string; version: string; coreWeight: number; fineWeight: number };
  /** Names of the raw output columns (logits) of the linear layer. */
  columns: string[];
  core: {
    /** sigmoid: independent scores (multi-label); softmax: one distribution over the columns present. */
    activation: 'sigmoid' | 'softmax';
    /** Column of each core class, or null when the model cannot predict that class (score null). */
    columns: Array<number | null>;
    /** Per-class decision thresholds, tuned on the development split. */
    thresholds: number[];
    /**
     * Retired: older models named a top-label rule here. Every model now reports calibrated scores
     * (decisions.ts) and its top label is the highest of them.
     */
    topLabel?: string;
  };
  fine: {
    labels: string[];
    columns: number[];
    thresholds: number[];
    /** Core class (index in CORE_EMOTIONS) each fine label belongs to. */
    coreOf: number[];
  } | null;
}

export function absentCoreClasses(labels: ModelLabels, core: readonly CoreEmotion[]): CoreEmotion[] {
  return core.filter((_, i) => labels.core.columns[i] === null);
}
