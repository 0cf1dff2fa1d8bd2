import { CORE_EMOTIONS } from './labels.js';
import type { ModelLabels, TopLabelRule } from './model-labels.js';

const NEUTRAL = CORE_EMOTIONS.indexOf('neutral');

/**
 * The index of the best core class among `candidates` under a top-label rule. Shared by the
 * engines and by evaluation, so both pick the same top label.
 */
export function topIndex(
  scores: ArrayLike<number>,
  candidates: readonly number[],
  thresholds: readonly number[],
  rule: TopLabelRule,
): number {
  const rank = (i: number) => (rule === 'score' ? scores[i]! : scores[i]! / thresholds[i]!);
  const best = (pool: readonly number[]) =>
    pool.reduce((top, i) => (rank(i) > rank(top) ? i : top), pool[0] ?? candidates[0] ?? 0);
  if (rule === 'emotion-first') {
    const emotions = candidates.filter((i) => i !== NEUTRAL && scores[i]! >= thresholds[i]!);
    if (emotions.length > 0) return best(emotions);
  }
  return best(candidates);
}

/** Core classes (indices) the model can predict at all. */
export function presentCoreClasses(labels: ModelLabels): number[] {
  return labels.core.columns.flatMap((column, i) => (column === null ? [] : [i]));
}
