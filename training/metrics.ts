export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Texts that carry the label. */
  support: number;
}

/** What `emotion-stream eval --json` prints and metrics.json stores, per task. */
export interface EvaluationReport {
  task: 'core' | 'fine';
  /** Mean F1 over the classes that occur in the data or in the predictions. */
  macroF1: number;
  /** Single-label data: top label = gold label. Multi-label data: top label among the gold labels. */
  accuracy: number;
  n: number;
  /** How predictions were made: every class over its threshold (multi-label) or the top class. */
  mode: 'multi-label' | 'single-label';
  perClass: Record<string, ClassMetrics>;
}

/** Figures in reports keep 6 decimals: stable JSON that `eval --json` reproduces exactly. */
export function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * Scores predictions against gold labels. `predicted[i]` and `gold[i]` are sets of class indices;
 * `top[i]` is the single best class of text i.
 */
export function evaluatePredictions(options: {
  task: 'core' | 'fine';
  classes: readonly string[];
  gold: number[][];
  predicted: number[][];
  top: number[];
  mode: 'multi-label' | 'single-label';
}): EvaluationReport {
  const { classes, gold, predicted, top } = options;
  const tp = new Array<number>(classes.length).fill(0);
  const fp = new Array<number>(classes.length).fill(0);
  const fn = new Array<number>(classes.length).fill(0);
  let correct = 0;
  gold.forEach((labels, i) => {
    const goldSet = new Set(labels);
    const predictedSet = new Set(predicted[i]);
    for (const c of predictedSet) (goldSet.has(c) ? tp : fp)[c]! += 1;
    for (const c of goldSet) if (!predictedSet.has(c)) fn[c]! += 1;
    if (goldSet.has(top[i]!)) correct++;
  });
  const perClass: Record<string, ClassMetrics> = {};
  const f1s: number[] = [];
  classes.forEach((name, c) => {
    const support = tp[c]! + fn[c]!;
    const precision = tp[c]! + fp[c]! > 0 ? tp[c]! / (tp[c]! + fp[c]!) : 0;
    const recall = support > 0 ? tp[c]! / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (support > 0 || fp[c]! > 0) {
      perClass[name] = { precision: round(precision), recall: round(recall), f1: round(f1), support };
      f1s.push(f1);
    }
  });
  return {
    task: options.task,
    macroF1: round(f1s.reduce((a, b) => a + b, 0) / Math.max(1, f1s.length)),
    accuracy: round(correct / Math.max(1, gold.length)),
    n: gold.length,
    mode: options.mode,
    perClass,
  };
}

/** F1 of one class at a threshold, from its scores and 0/1 gold labels. */
export function f1At(scores: ArrayLike<number>, gold: Uint8Array, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < gold.length; i++) {
    const positive = scores[i]! >= threshold;
    if (positive && gold[i]) tp++;
    else if (positive) fp++;
    else if (gold[i]) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * The threshold in [0.01, 0.99] (steps of 0.01) that maximises the class's F1 on the given
 * (development) data; the lowest such threshold on ties, so the choice is deterministic.
 */
export function tuneThreshold(scores: ArrayLike<number>, gold: Uint8Array): number {
  let best = 0.5;
  let bestF1 = -1;
  for (let step = 1; step <= 99; step++) {
    const threshold = step / 100;
    const f1 = f1At(scores, gold, threshold);
    if (f1 > bestF1 + 1e-12) {
      bestF1 = f1;
      best = threshold;
    }
  }
  return best;
}

/** Mean over classes of each class's F1 at its own tuned threshold (the dev-side selection score). */
export function tunedMacroF1(scores: ArrayLike<number>[], gold: Uint8Array[]): number {
  const f1s = scores.map((column, c) => f1At(column, gold[c]!, tuneThreshold(column, gold[c]!)));
  return f1s.reduce((a, b) => a + b, 0) / Math.max(1, f1s.length);
}
