import { presentCoreClasses, topIndex } from '../processors/classify/decisions.js';
import {
  CORE_EMOTIONS,
  FINE_EMOTIONS,
  FINE_TO_CORE,
  type FineEmotion,
} from '../processors/classify/labels.js';
import type { ModelLabels } from '../processors/classify/model-labels.js';
import type { LoadedModel } from '../processors/classify/onnx-engine.js';
import type { DatasetFormat, Example } from './datasets.js';
import { type EvaluationReport, evaluatePredictions } from './metrics.js';

export type Task = 'core' | 'fine';

export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
}

/** Gold labels as class indices of the task (GoEmotions fine labels grouped into core classes for 'core'). */
export function goldLabels(format: DatasetFormat, task: Task, examples: Example[]): number[][] {
  if (task === 'fine') {
    if (format !== 'goemotions')
      throw new EvaluationError(`--task fine needs GoEmotions data (got ${format})`);
    return examples.map((e) => e.labels.map((label) => FINE_EMOTIONS.indexOf(label as FineEmotion)));
  }
  return examples.map((e) => [
    ...new Set(
      e.labels.map((label) =>
        CORE_EMOTIONS.indexOf(
          format === 'goemotions' ? FINE_TO_CORE[label as FineEmotion] : (label as never),
        ),
      ),
    ),
  ]);
}

/** Scores every example with the model (its own ONNX session) in batches. */
export async function scoreExamples(
  model: LoadedModel,
  texts: string[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ core: Float32Array[]; fine: Float32Array[] | null }> {
  const core: Float32Array[] = [];
  const fine: Float32Array[] = [];
  const fineWidth = model.labels.fine?.labels.length ?? 0;
  for (let start = 0; start < texts.length; start += 256) {
    const batch = texts.slice(start, start + 256);
    const scores = await model.score(batch);
    batch.forEach((_, row) => {
      core.push(scores.core.slice(row * CORE_EMOTIONS.length, (row + 1) * CORE_EMOTIONS.length));
      if (scores.fine) fine.push(scores.fine.slice(row * fineWidth, (row + 1) * fineWidth));
    });
    onProgress?.(Math.min(texts.length, start + 256), texts.length);
  }
  return { core, fine: model.labels.fine ? fine : null };
}

/** Raw scores of examples, as scoreExamples returns them. */
export type ExampleScores = Awaited<ReturnType<typeof scoreExamples>>;

/**
 * Evaluates a model on labelled data: multi-label data (some texts carry several labels) is scored
 * by every class over its threshold, single-label data by the top class.
 */
export async function evaluateModel(
  model: LoadedModel,
  format: DatasetFormat,
  task: Task,
  examples: Example[],
  onProgress?: (done: number, total: number) => void,
): Promise<EvaluationReport> {
  if (examples.length === 0) throw new EvaluationError('no examples to evaluate');
  if (task === 'fine' && !model.labels.fine)
    throw new EvaluationError(`${model.labels.name} has no fine-grained labels`);
  // Gold first: data the task cannot use is refused before the (slow) scoring.
  const gold = goldLabels(format, task, examples);
  const scores = await scoreExamples(
    model,
    examples.map((e) => e.text),
    onProgress,
  );
  return reportOf(model.labels, task, gold, scores);
}

/** evaluateModel on scores already computed (one scoring serves both tasks). */
export function evaluateScores(
  labels: ModelLabels,
  format: DatasetFormat,
  task: Task,
  examples: Example[],
  scores: ExampleScores,
): EvaluationReport {
  return reportOf(labels, task, goldLabels(format, task, examples), scores);
}

function reportOf(
  labels: ModelLabels,
  task: Task,
  gold: number[][],
  scores: ExampleScores,
): EvaluationReport {
  const mode = gold.every((g) => g.length === 1) ? 'single-label' : 'multi-label';
  if (task === 'core') {
    const present = presentCoreClasses(labels);
    const top = scores.core.map((s) => topIndex(s, present, labels.core.thresholds));
    const predicted =
      mode === 'single-label'
        ? top.map((t) => [t])
        : scores.core.map((s) => present.filter((i) => s[i]! >= labels.core.thresholds[i]!));
    return evaluatePredictions({ task, classes: CORE_EMOTIONS, gold, predicted, top, mode });
  }
  const fine = labels.fine!;
  const all = fine.labels.map((_, j) => j);
  const top = scores.fine!.map((s) => topIndex(s, all, fine.thresholds));
  const predicted =
    mode === 'single-label'
      ? top.map((t) => [t])
      : scores.fine!.map((s) => all.filter((j) => s[j]! >= fine.thresholds[j]!));
  return evaluatePredictions({ task, classes: fine.labels, gold, predicted, top, mode });
}

/** 0/1 per example: whether class `cls` is among its gold labels (one column's targets). */
export function targetsOf(gold: number[][], cls: number): Uint8Array {
  return Uint8Array.from(gold, (labels) => (labels.includes(cls) ? 1 : 0));
}
