import type { RunningService, ServiceContext } from '../runtime/service.js';
import { startPostgresSinkService } from './postgres/postgres-sink.js';

/**
 * Sinks a user opts into (`emotion-stream sink <name>`), never part of the default topology
 * (manifests, `up`): they need a destination the project does not run for you.
 */
export const OPT_IN_SINKS = {
  postgres: startPostgresSinkService,
} as const satisfies Record<string, (context: ServiceContext) => Promise<RunningService>>;

export type OptInSinkName = keyof typeof OPT_IN_SINKS;
