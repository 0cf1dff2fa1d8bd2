import type { TopicKey } from '../schemas/index.js';

/** The topic each sink's group consumes (what its lag, and so its scaling, is measured on). */
export const SINK_INPUTS = {
  blob: 'emotions',
  feedback: 'feedback',
} as const satisfies Record<string, TopicKey>;
