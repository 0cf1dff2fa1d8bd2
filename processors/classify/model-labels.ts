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
  /** Names of the raw output columns (logits) of the linear layer. */
  columns: string[];
  core: {
    /** sigmoid: independent scores (multi-label); softmax: one distribution over the columns present. */
    activation: 'sigmoid' | 'softmax';
    /** Column of each core class, or null when the model cannot predict that class (score 0). */
    columns: Array<number | null>;
    /** Per-class decision thresholds, tuned on the development split. */
    thresholds: number[];
    /**
     * How the single top label is picked: the highest score; the highest score relative to its
     * class's threshold (so a frequent class with a high threshold does not win every close call);
     * or emotion-first: the best emotion over its threshold, neutral only when no emotion passes.
     * Chosen on the development split.
     */
    topLabel: TopLabelRule;
  };
  fine: {
    labels: string[];
    columns: number[];
    thresholds: number[];
    /** Core class (index in CORE_EMOTIONS) each fine label belongs to. */
    coreOf: number[];
  } | null;
}

export const TOP_LABEL_RULES = ['score', 'threshold-ratio', 'emotion-first'] as const;
export type TopLabelRule = (typeof TOP_LABEL_RULES)[number];

export function absentCoreClasses(labels: ModelLabels, core: readonly CoreEmotion[]): CoreEmotion[] {
  return core.filter((_, i) => labels.core.columns[i] === null);
}
