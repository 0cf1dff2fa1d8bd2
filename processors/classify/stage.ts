import type { InputRecord, Outcome, StageHandler } from '../../runtime/stage/types.js';
import type { EmotionResult, TextSegment } from '../../schemas/index.js';
import { groupIndices } from '../shared/language.js';
import type { ClassifyMetrics } from './classify-metrics.js';
import type { EmotionEngine, EmotionScores } from './engine.js';
import { resultIdOf } from './result-id.js';

/** The text a segment should be classified on: translated, else corrected, else as it came. */
export function analysedText(segment: TextSegment): string {
  return segment.translation?.text ?? segment.correction?.text ?? segment.text;
}

/** The language of that text, when an earlier stage knows it. */
function analysedLanguage(segment: TextSegment): string | null {
  return segment.translation?.targetLanguage ?? segment.language ?? null;
}

/**
 * segments.translated → emotions: one EmotionResult per segment, with the scores of the engine's
 * model for the text's language. The result id names the segment and the model version, so
 * reprocessing history with a new model gives new results instead of overwriting old ones.
 */
export class ClassifyHandler implements StageHandler<TextSegment, EmotionResult> {
  private readonly owns: (record: InputRecord<TextSegment>) => boolean;
  private readonly metrics: ClassifyMetrics | undefined;

  constructor(
    private readonly engine: EmotionEngine,
    private readonly outputTopic: string,
    options: {
      /** Blue/green: whether this deployment owns a record; the other colour classifies the rest. */
      owns?: (record: InputRecord<TextSegment>) => boolean;
      metrics?: ClassifyMetrics;
    } = {},
  ) {
    this.owns = options.owns ?? (() => true);
    this.metrics = options.metrics;
  }

  async process(all: InputRecord<TextSegment>[]): Promise<Outcome<EmotionResult>[]> {
    // Decided for the whole batch first: a plan too old to decide one record pauses the batch.
    const owned = all.map((record) => this.owns(record));
    const records = all.filter((_, i) => owned[i]);
    const outcomes = await this.classifyAll(records);
    let next = 0;
    return owned.map((mine) => (mine ? outcomes[next++]! : { outputs: [] }));
  }

  private async classifyAll(records: InputRecord<TextSegment>[]): Promise<Outcome<EmotionResult>[]> {
    const texts = records.map((r) => analysedText(r.value));
    const scores = new Array<EmotionScores>(records.length);
    for (const [language, indices] of groupIndices(records.map((r) => analysedLanguage(r.value)))) {
      const classify = () =>
        this.engine.run(
          indices.map((i) => texts[i]!),
          language === null ? {} : { lang: language },
        );
      const results = this.metrics
        ? await this.metrics.timeInference(`${this.engine.name}:${language ?? 'auto'}`, classify)
        : await classify();
      indices.forEach((i, k) => {
        scores[i] = results[k]!;
      });
    }
    return records.map((record, i) => {
      const value = toEmotionResult(record.value, texts[i]!, scores[i]!);
      // Counted when produced; a batch retried after a failed commit is counted again.
      this.metrics?.countResult(value);
      return { outputs: [{ topic: this.outputTopic, key: record.key, value }] };
    });
  }
}

export function toEmotionResult(segment: TextSegment, text: string, scores: EmotionScores): EmotionResult {
  return {
    id: resultIdOf(segment.id, scores.model),
    segmentId: segment.id,
    streamId: segment.streamId,
    seq: segment.seq,
    text,
    originalText: segment.text,
    language: scores.detectedLanguage ?? scores.language,
    languageFallback: scores.languageFallback,
    core: scores.core,
    distribution: scores.distribution,
    fine: scores.fine,
    topLabel: scores.topLabel,
    labels: scores.labels,
    sentiment: scores.sentiment,
    model: scores.model,
    startMs: segment.startMs,
    endMs: segment.endMs,
    jobId: segment.jobId,
    // Results written before speakers were told apart have none.
    speaker: segment.speaker ?? null,
    // The stage loop appends this stage's stamp.
    trace: segment.trace,
  };
}
