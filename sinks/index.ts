import type { RunningService, ServiceContext } from '../runtime/service.js';
import type { TopicKey } from '../schemas/index.js';
import { startBlobSinkService } from './blob/service.js';
import { startFeedbackSinkService } from './feedback/service.js';

/** Every sink that runs as its own service (`emotion-stream sink <name>`). */
export const SINKS = {
  blob: startBlobSinkService,
  feedback: startFeedbackSinkService,
} as const satisfies Record<string, (context: ServiceContext) => Promise<RunningService>>;

export type SinkName = keyof typeof SINKS;

/** The topic each sink's group consumes (what its lag, and so its scaling, is measured on). */
export const SINK_INPUTS: Record<SinkName, TopicKey> = {
  blob: 'emotions',
  feedback: 'feedback',
};

export const SINK_NAMES = Object.keys(SINKS) as SinkName[];
