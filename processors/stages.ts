import type { RunningService, ServiceContext } from '../runtime/service.js';
import { startClassifyService } from './classify/service.js';
import { startCorrectService } from './correct/service.js';
import { startTranscribeService } from './transcribe/service.js';
import { startTranslateService } from './translate/service.js';

/** Every pipeline stage that runs as its own service (`emotion-stream stage <name>`), in flow order. */
export const PIPELINE_STAGES = {
  transcribe: startTranscribeService,
  correct: startCorrectService,
  translate: startTranslateService,
  classify: startClassifyService,
} as const satisfies Record<string, (context: ServiceContext) => Promise<RunningService>>;

export type PipelineStageName = keyof typeof PIPELINE_STAGES;

export const PIPELINE_STAGE_NAMES = Object.keys(PIPELINE_STAGES) as PipelineStageName[];
