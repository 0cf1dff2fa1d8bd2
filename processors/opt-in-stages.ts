import type { RunningService, ServiceContext } from '../runtime/service.js';
import type { PipelineConfig } from './config.js';
import { startFusedTextService } from './fused-text-stage.js';

/**
 * Deployment modes a user opts into instead of some of the stages above, never part of the default
 * topology (manifests, `up`): `text-pipeline` runs correct → translate → classify in one process.
 */
export const OPT_IN_STAGES = {
  'text-pipeline': startFusedTextService,
} as const satisfies Record<string, (context: ServiceContext<PipelineConfig>) => Promise<RunningService>>;

export type OptInStageName = keyof typeof OPT_IN_STAGES;
