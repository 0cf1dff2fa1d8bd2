import type { Engine } from '../../runtime/engine.js';
import type { CoreScores, Sentiment } from './decisions.js';
import type { CoreEmotion } from './labels.js';

/** The emotions of one text, whichever engine computed them (decisions.ts derives them all). */
export interface EmotionScores {
  /**
   * Calibrated probability in [0, 1] of each core class: 0.5 is the class's tuned threshold. Null
   * for classes the model cannot predict.
   */
  core: CoreScores;
  /** The core scores as shares summing to 1 over the classes the model has (null for the rest). */
  distribution: CoreScores;
  /** Fine-grained calibrated probabilities (GoEmotions labels), when the model has them. */
  fine: Record<string, number> | null;
  /** The core class with the highest score in `core`. */
  topLabel: CoreEmotion;
  /** Core classes whose score reaches 0.5, i.e. their threshold (possibly several, possibly none). */
  labels: CoreEmotion[];
  /** Polarity in [-1, 1] and intensity in [0, 1], from `distribution`. */
  sentiment: Sentiment;
  /** Language of the model that scored the text (ISO 639-1). */
  language: string;
  /** Language detected in or given for the text; null when too short to tell. */
  detectedLanguage: string | null;
  /** True when no model exists for the text's language and another language's model was used. */
  languageFallback: boolean;
  model: { name: string; version: string; engine: string };
  /** True when the text was longer than the model reads and only its start was scored. */
  truncated: boolean;
}

export interface ClassifyOptions {
  /** Language of every text in the call (ISO 639-1); detected per text when absent. */
  lang?: string;
}

/**
 * An emotion classifier. Engines differ in how they score (the project's ONNX models, any Hugging
 * Face model through transformers.js) but all answer in core classes.
 */
/** An emotion classifier (runtime/engine.ts has the contract). */
export interface EmotionEngine extends Engine<string, EmotionScores, ClassifyOptions> {
  /** Languages with a model of their own. */
  readonly languages: readonly string[];
}

export class ClassifyInputError extends Error {
  override readonly name = 'ClassifyInputError';
}

/** Every engine's first check: `texts` must be an array of strings (callers may be plain JS). */
export function assertTexts(texts: readonly string[]): void {
  if (!Array.isArray(texts)) throw new ClassifyInputError('texts must be an array of strings');
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') throw new ClassifyInputError(`texts[${i}] is not a string`);
  }
}
