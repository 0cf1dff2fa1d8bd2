import type { EnvReader, RuntimeConfig } from '../../runtime/config/index.js';

/** How the feedback sink joins feedback with results and builds training files (see sinks/feedback). */
export interface FeedbackConfig {
  /** How far back the feedback sink indexes results to join feedback with. */
  joinWindowMs: number;
  /** Most results held in that index; the oldest go first. */
  joinMaxResults: number;
  /** How long feedback waits for its result to reach the index before it is kept unmatched. */
  joinWaitMs: number;
  /** How often the consolidated training files are rebuilt when new feedback arrived. */
  datasetIntervalMs: number;
}

const MINUTE = 60_000;

/** The feedback sink's settings (FEEDBACK_*), validated by the one loader (cli/config.ts). */
export function readFeedbackConfig(read: EnvReader): FeedbackConfig {
  return {
    joinWindowMs: read.int('FEEDBACK_JOIN_WINDOW_MS', 7 * 24 * 60 * MINUTE, { min: 1000 }),
    joinMaxResults: read.int('FEEDBACK_JOIN_MAX_RESULTS', 1_000_000, { min: 1 }),
    joinWaitMs: read.int('FEEDBACK_JOIN_WAIT_MS', 30_000, { min: 0 }),
    datasetIntervalMs: read.int('FEEDBACK_DATASET_INTERVAL_MS', 10 * MINUTE, { min: 100 }),
  };
}

/** The settings the feedback sink reads: the runtime's and its own. */
export interface FeedbackSinkConfig extends RuntimeConfig {
  feedback: FeedbackConfig;
}
