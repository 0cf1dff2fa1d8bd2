import type { RunningService, ServiceContext } from '../runtime/service.js';
import type { OpenedHandler } from '../runtime/stage/types.js';
import { openClassifyHandler, startClassifyService } from './classify/service.js';
import type { PipelineConfig } from './config.js';
import { openCorrectHandler, startCorrectService } from './correct/service.js';
import { type PipelineStageName, STAGE_TOPOLOGY, type StageTopics } from './stage-topology.js';
import { openTranscribeHandler, startTranscribeService } from './transcribe/service.js';
import { openTranslateHandler, startTranslateService } from './translate/service.js';

export type { PipelineStageName } from './stage-topology.js';

/**
 * A stage of the pipeline: what it reads and writes (STAGE_TOPOLOGY), how its handler is opened
 * (what replay and the fused stage need of it) and how it starts as a service of its own.
 */
export interface PipelineStage extends StageTopics {
  open(
    context: ServiceContext<PipelineConfig>,
    outputTopic: string,
  ): Promise<OpenedHandler<unknown, unknown>>;
  start(context: ServiceContext<PipelineConfig>): Promise<RunningService>;
}

type Opened = Promise<OpenedHandler<unknown, unknown>>;

/** Each stage's code; its topics come from STAGE_TOPOLOGY, the one layout. */
const STAGE_CODE: Record<PipelineStageName, Pick<PipelineStage, 'open' | 'start'>> = {
  transcribe: {
    open: (context, output) => openTranscribeHandler(context, output) as Opened,
    start: startTranscribeService,
  },
  correct: {
    open: (context, output) => openCorrectHandler(context, output) as Opened,
    start: startCorrectService,
  },
  translate: {
    open: (context, output) => openTranslateHandler(context, output) as Opened,
    start: startTranslateService,
  },
  classify: {
    open: (context, output) => openClassifyHandler(context, output, { name: 'replay-classify' }) as Opened,
    start: startClassifyService,
  },
};

/** Every pipeline stage, in pipeline order (STAGE_TOPOLOGY's). */
export const PIPELINE_STAGE_NAMES = Object.keys(STAGE_TOPOLOGY) as PipelineStageName[];

/** Every pipeline stage: its topics and its code. */
export const PIPELINE_STAGES = Object.fromEntries(
  PIPELINE_STAGE_NAMES.map((name) => [name, { ...STAGE_TOPOLOGY[name], ...STAGE_CODE[name] }]),
) as Record<PipelineStageName, PipelineStage>;

/** Every pipeline stage as its own service (`emotion-stream stage <name>`), in pipeline order. */
export const PIPELINE_STAGE_SERVICES = Object.fromEntries(
  PIPELINE_STAGE_NAMES.map((name) => [name, PIPELINE_STAGES[name].start]),
) as Record<PipelineStageName, (context: ServiceContext<PipelineConfig>) => Promise<RunningService>>;
