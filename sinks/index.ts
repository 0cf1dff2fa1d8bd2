import type { RunningService, ServiceContext } from '../runtime/service.js';
import { startBlobSinkService } from './blob/service.js';
import type { FeedbackSinkConfig } from './feedback/config.js';
import { startFeedbackSinkService } from './feedback/service.js';

/** Every sink that runs as its own service (`emotion-stream sink <name>`). */
export const SINKS = {
  blob: startBlobSinkService,
  feedback: startFeedbackSinkService,
} as const satisfies Record<string, (context: ServiceContext<FeedbackSinkConfig>) => Promise<RunningService>>;

export type SinkName = keyof typeof SINKS;

export { SINK_INPUTS } from './sink-inputs.js';

export const SINK_NAMES = Object.keys(SINKS) as SinkName[];
