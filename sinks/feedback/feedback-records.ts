import {
  CORE_EMOTIONS,
  type CoreEmotion,
  FINE_TO_CORE,
  type FineEmotion,
} from '../../processors/classify/labels.js';
import type { SinkLine, SinkRouter } from '../../runtime/sink/blob-files-writer.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { Feedback } from '../../schemas/index.js';
import { utcDate } from '../blob/emotion-files.js';
import type { IndexedResult, ResultIndex } from './result-index.js';

/** One line of the daily feedback files: the verdict, the result it judges, and what it teaches. */
export interface FeedbackRecord {
  feedbackId: string;
  resultId: string;
  verdict: Feedback['verdict'];
  /** The label the user gave, as given (core or GoEmotions). */
  label: string | null;
  comment: string | null;
  createdAtMs: number;
  result: IndexedResult | null;
  /** The core class this feedback teaches, or null with the reason in `unusable`. */
  trainingLabel: CoreEmotion | null;
  unusable: string | null;
}

/** What a verdict teaches: a confirmed prediction, or the label the user gave instead. */
export function trainingLabelOf(
  feedback: Pick<Feedback, 'verdict' | 'label'>,
  result: IndexedResult | null,
): { trainingLabel: CoreEmotion | null; unusable: string | null } {
  if (!result) return { trainingLabel: null, unusable: 'result not found within the join window' };
  if (feedback.verdict === 'correct') return { trainingLabel: result.topLabel, unusable: null };
  if (!feedback.label) return { trainingLabel: null, unusable: 'wrong, without the right label' };
  const label = feedback.label.toLowerCase();
  const core = (CORE_EMOTIONS as readonly string[]).includes(label)
    ? (label as CoreEmotion)
    : FINE_TO_CORE[label as FineEmotion];
  if (!core) return { trainingLabel: null, unusable: `unknown label '${feedback.label}'` };
  return { trainingLabel: core, unusable: null };
}

/** Where the feedback records of a day go: `<root>/daily/dt=YYYY-MM-DD` (the record's UTC date). */
export function dailyFeedbackDir(root: string, timestampMs: number): string {
  return `${root}/daily/dt=${utcDate(timestampMs)}`;
}

/**
 * Joins each feedback with its result and files it under `<root>/daily/dt=YYYY-MM-DD` (the
 * feedback record's date). Feedback whose result is not indexed yet waits up to `joinWaitMs`, then
 * is kept unmatched: it is never dropped.
 */
export class FeedbackRouter implements SinkRouter<Feedback> {
  constructor(
    private readonly index: ResultIndex,
    private readonly root: string,
    private readonly joinWaitMs: number,
  ) {}

  async route(records: InputRecord<Feedback>[]): Promise<SinkLine[]> {
    await this.index.ready;
    await this.index.waitFor(
      records.map((r) => r.value.resultId),
      Date.now() + this.joinWaitMs,
    );
    return records.map(({ value, timestamp }) => {
      const result = this.index.get(value.resultId) ?? null;
      const record: FeedbackRecord = {
        feedbackId: value.id,
        resultId: value.resultId,
        verdict: value.verdict,
        label: value.label,
        comment: value.comment,
        createdAtMs: value.createdAtMs,
        result,
        ...trainingLabelOf(value, result),
      };
      return { dir: dailyFeedbackDir(this.root, timestamp), line: JSON.stringify(record) };
    });
  }
}
