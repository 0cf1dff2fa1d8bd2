import type { BlobStore } from '../../runtime/blob/blob-store.js';
import { errorMessage } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { Feedback } from '../../schemas/index.js';
import { dailyFeedbackDir, type FeedbackRecord } from '../../sinks/feedback/feedback-records.js';

/**
 * Whether a verdict found the result it judges (issue 19: a verdict on a result that does not
 * exist got 202 and nothing more). `matched`: joined with its result, so it teaches the next
 * model; `unmatched`: kept without its result (not found within the join window), with why;
 * `pending`: not recorded yet.
 */
export type FeedbackMatch = 'matched' | 'pending' | 'unmatched';

export interface FeedbackOutcome {
  id: string;
  resultId: string;
  verdict: Feedback['verdict'];
  label: string | null;
  createdAt: string;
  matched: FeedbackMatch;
  /** Why it is unmatched or still pending; null once matched. */
  reason: string | null;
  /** The core class it teaches, once recorded. */
  trainingLabel: string | null;
  /** True once the feedback sink has written it (then nothing about it changes). */
  recorded: boolean;
}

const DAY_MS = 86_400_000;
/** Feedback kept for lookups, the oldest forgotten first (a few hundred bytes each). */
const MAX_TRACKED = 200_000;

/**
 * The outcome of the feedback this gateway accepted. The feedback sink does the join (feedback ⋈
 * emotions within its window) and writes each record to Blob; this reads those records, so what it
 * reports is what the training set will hold, not a guess of its own. A verdict on a result the
 * gateway saw is matched at once (the sink will find it too); the rest stay pending until the sink
 * has written them. Each daily file is read once and settles every tracked verdict in it.
 */
export class FeedbackOutcomes {
  private readonly outcomes = new Map<string, FeedbackOutcome>();
  /** Files already read, by day directory. */
  private readonly read = new Map<string, Set<string>>();

  constructor(
    private readonly options: {
      store: BlobStore | undefined;
      /** The feedback sink's root (its topic name). */
      root: string;
      logger: Logger;
    },
  ) {}

  /** Records an accepted verdict; `seen`: the gateway saw its result, so it will be matched. */
  track(feedback: Feedback, seen: boolean): FeedbackOutcome {
    const outcome: FeedbackOutcome = {
      id: feedback.id,
      resultId: feedback.resultId,
      verdict: feedback.verdict,
      label: feedback.label,
      createdAt: new Date(feedback.createdAtMs).toISOString(),
      matched: seen ? 'matched' : 'pending',
      reason: seen ? null : 'the feedback sink has not joined it with its result yet',
      trainingLabel: null,
      recorded: false,
    };
    this.outcomes.set(feedback.id, outcome);
    while (this.outcomes.size > MAX_TRACKED) this.outcomes.delete(this.outcomes.keys().next().value!);
    return outcome;
  }

  /** The verdict's outcome as far as it is known; undefined when this gateway never took it. */
  async outcome(id: string): Promise<FeedbackOutcome | undefined> {
    const outcome = this.outcomes.get(id);
    if (!outcome || outcome.recorded) return outcome;
    const createdMs = Date.parse(outcome.createdAt);
    // The sink files a record under its broker timestamp's day: the day it was sent, or the next
    // one when it was sent just before midnight.
    for (const day of [createdMs, createdMs + DAY_MS]) {
      if (day > Date.now() + DAY_MS) break;
      await this.readDay(dailyFeedbackDir(this.options.root, day));
      if (outcome.recorded) break;
    }
    return outcome;
  }

  private async readDay(dir: string): Promise<void> {
    const { store, logger } = this.options;
    if (!store) return;
    const done = this.read.get(dir) ?? new Set<string>();
    this.read.set(dir, done);
    try {
      for (const blob of await store.list(`${dir}/`)) {
        if (done.has(blob.name)) continue;
        const text = (await store.getText(blob.name)) ?? '';
        for (const line of text.split('\n')) {
          if (line.trim()) this.settle(JSON.parse(line) as FeedbackRecord);
        }
        done.add(blob.name);
      }
    } catch (error) {
      logger.warn(
        { dir, err: errorMessage(error) },
        'cannot read the feedback records; outcomes stay pending',
      );
    }
  }

  private settle(record: FeedbackRecord): void {
    const outcome = this.outcomes.get(record.feedbackId);
    if (!outcome) return;
    outcome.matched = record.result ? 'matched' : 'unmatched';
    outcome.reason = record.result ? null : record.unusable;
    outcome.trainingLabel = record.trainingLabel;
    outcome.recorded = true;
    // A matched verdict that teaches nothing (wrong, without a label) says why.
    if (record.result && record.unusable) outcome.reason = record.unusable;
  }
}
