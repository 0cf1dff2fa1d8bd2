import type { RunningService, ServiceContext } from '../runtime/service.js';
import { STAGE_FLOWS } from './stage-flows.js';
import { type PipelineStageName, STAGE_TOPOLOGY } from './stage-topology.js';

export type { PipelineStageName } from './stage-topology.js';

/** Every pipeline stage, in flow order (STAGE_TOPOLOGY's). */
export const PIPELINE_STAGE_NAMES = Object.keys(STAGE_TOPOLOGY) as PipelineStageName[];

/** Every pipeline stage as its own service (`emotion-stream stage <name>`), in flow order. */
export const PIPELINE_STAGES = Object.fromEntries(
  PIPELINE_STAGE_NAMES.map((name) => [name, STAGE_FLOWS[name].start]),
) as Record<PipelineStageName, (context: ServiceContext) => Promise<RunningService>>;
