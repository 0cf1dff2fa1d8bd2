import { CORE_EMOTIONS, type CoreEmotion } from './labels.js';
import type { ModelLabels } from './model-labels.js';

/** Core scores of one text; null for a class the model cannot predict (never a made-up 0). */
export type CoreScores = Record<CoreEmotion, number | null>;

/** Polarity in [-1, 1] (negative to positive) and intensity in [0, 1] (how emotional at all). */
export interface Sentiment {
  polarity: number;
  intensity: number;
}

/** Everything a result says about its core classes, derived from one set of calibrated scores. */
export interface CoreDecision {
  /** Calibrated probability per class: the class's tuned threshold sits at 0.5. */
  core: CoreScores;
  /**
   * Shares summing to 1 over the present classes (for charts): a softmax of the calibrated logits,
   * so the order is the scores' order and a clear winner gets most of the share.
   */
  distribution: CoreScores;
  /** Classes whose calibrated score reaches 0.5, i.e. whose raw score reaches its threshold. */
  labels: CoreEmotion[];
  /** The class with the highest calibrated score. */
  topLabel: CoreEmotion;
  sentiment: Sentiment;
}

const EPSILON = 1e-6;

function logit(p: number): number {
  const q = Math.min(1 - EPSILON, Math.max(EPSILON, p));
  return Math.log(q / (1 - q));
}

/**
 * A raw probability re-centred on its class's threshold: sigmoid(logit(p) − logit(t)). Monotone in
 * p and equal to 0.5 exactly at the threshold, so "over threshold", "highest score" and "top
 * label" can no longer disagree (issue 18: the label was picked with thresholds the shown scores
 * did not carry, and differed from the highest score on 13% of rows).
 */
export function calibrate(p: number, threshold: number): number {
  return sigmoid(margin(p, threshold));
}

/** How far a raw probability is past its threshold, in logits: the calibrated logit. */
function margin(p: number, threshold: number): number {
  return logit(p) - logit(threshold);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Core classes (indices) the model can predict at all. */
export function presentCoreClasses(labels: Pick<ModelLabels, 'core'>): number[] {
  return labels.core.columns.flatMap((column, i) => (column === null ? [] : [i]));
}

/** Index of the highest calibrated score among `candidates` (the first on ties). */
export function topIndex(
  scores: ArrayLike<number>,
  candidates: readonly number[],
  thresholds: readonly number[],
): number {
  const margins = candidates.map((i) => margin(scores[i]!, thresholds[i]!));
  return candidates[argmax(margins)] ?? 0;
}

/** Position of the largest value (the first on ties). */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}

const NEGATIVE: readonly CoreEmotion[] = ['anger', 'disgust', 'fear', 'sadness'];

/**
 * Sentiment from the core shares: polarity = joy − (anger + disgust + fear + sadness); surprise and
 * neutral count as neither (GoEmotions' own sentiment grouping calls surprise "ambiguous").
 * Intensity = 1 − the neutral share. A model without some class simply contributes nothing for it.
 */
export function sentimentOf(distribution: CoreScores): Sentiment {
  const share = (emotion: CoreEmotion) => distribution[emotion] ?? 0;
  const negative = NEGATIVE.reduce((sum, emotion) => sum + share(emotion), 0);
  const polarity = Math.max(-1, Math.min(1, share('joy') - negative));
  const intensity = Math.max(0, Math.min(1, 1 - share('neutral')));
  return { polarity: round4(polarity), intensity: round4(intensity) };
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * Raw core probabilities (CORE_EMOTIONS order) → calibrated scores, shares, labels, top label and
 * sentiment. Absent classes are null everywhere and never chosen.
 */
export function decideCore(
  raw: ArrayLike<number>,
  present: readonly number[],
  thresholds: readonly number[],
): CoreDecision {
  const core = emptyScores();
  const distribution = emptyScores();
  const labels: CoreEmotion[] = [];
  const margins = present.map((i) => margin(raw[i]!, thresholds[i]!));
  const top = argmax(margins);
  const weights = margins.map((m) => Math.exp(m - margins[top]!));
  const total = weights.reduce((sum, w) => sum + w, 0);
  present.forEach((i, k) => {
    const emotion = CORE_EMOTIONS[i]!;
    core[emotion] = sigmoid(margins[k]!);
    distribution[emotion] = weights[k]! / total;
    if (raw[i]! >= thresholds[i]!) labels.push(emotion);
  });
  return {
    core,
    distribution,
    labels,
    topLabel: CORE_EMOTIONS[present[top] ?? 0]!,
    sentiment: sentimentOf(distribution),
  };
}

/** A literal in CORE_EMOTIONS order: one object shape for every result. */
function emptyScores(): CoreScores {
  return { anger: null, disgust: null, fear: null, joy: null, neutral: null, sadness: null, surprise: null };
}
