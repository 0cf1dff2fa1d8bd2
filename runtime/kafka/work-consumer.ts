import type { Consumer, Kafka } from 'kafkajs';
import type { StageConfig } from '../config/index.js';

/**
 * The consumer of a service that does work for its group (a stage, a sink): read_committed, the
 * configured liveness settings, and no silent restart after a crash — the service exits and the
 * orchestrator restarts the process with a clean state.
 */
export function workConsumer(kafka: Kafka, groupId: string, settings: StageConfig): Consumer {
  return kafka.consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, settings.sessionTimeoutMs),
    retry: { retries: 8, restartOnFailure: async () => false },
  });
}
