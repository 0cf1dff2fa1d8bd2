import type { RunningService, ServiceContext } from '../runtime/service.js';
import type { StageWork } from '../runtime/stage/types.js';
import { buildClassifyWork, startClassifyService } from './classify/service.js';
import { buildCorrectWork, startCorrectService } from './correct/service.js';
import { type PipelineStageName, STAGE_TOPOLOGY, type StageTopics } from './stage-topology.js';
import { buildTranscribeWork, startTranscribeService } from './transcribe/service.js';
import { buildTranslateWork, startTranslateService } from './translate/service.js';

/**
 * A stage of the pipeline: what it reads and writes (STAGE_TOPOLOGY), how its processing is built
 * (what replay and the fused stage need of it) and how it starts as a service of its own.
 */
export interface StageFlow extends StageTopics {
  build(context: ServiceContext, outputTopic: string): Promise<StageWork<unknown, unknown>>;
  start(context: ServiceContext): Promise<RunningService>;
}

type Work = Promise<StageWork<unknown, unknown>>;

/** Each stage's code; its topics come from STAGE_TOPOLOGY, the one layout. */
const STAGE_CODE: Record<PipelineStageName, Pick<StageFlow, 'build' | 'start'>> = {
  transcribe: {
    build: (context, output) => buildTranscribeWork(context, output) as Work,
    start: startTranscribeService,
  },
  correct: {
    build: (context, output) => buildCorrectWork(context, output) as Work,
    start: startCorrectService,
  },
  translate: {
    build: (context, output) => buildTranslateWork(context, output) as Work,
    start: startTranslateService,
  },
  classify: {
    build: (context, output) => buildClassifyWork(context, output, { name: 'replay-classify' }) as Work,
    start: startClassifyService,
  },
};

export const STAGE_FLOWS = Object.fromEntries(
  Object.entries(STAGE_TOPOLOGY).map(([name, topics]) => [
    name,
    { ...topics, ...STAGE_CODE[name as PipelineStageName] },
  ]),
) as Record<PipelineStageName, StageFlow>;
