import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../cli/config.js';
import type { LogLevel } from '../../runtime/config/index.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';

/** Environment pointing at the run's stack, plus overrides. */
export function stackEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...inject('stackEnv'), ...overrides };
}

/** A unique prefix per test, so tests never see each other's topics, groups or subjects. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomBytes(3).toString('hex')}.`;
}

export interface TestStack {
  config: Config;
  logger: Logger;
  kafka: ReturnType<typeof createKafka>;
  registry: SchemaRegistryClient;
}

export function testStack(overrides: Record<string, string> = {}): TestStack {
  const config = loadConfig({ ...process.env, ...stackEnv(overrides) });
  // Quiet by default; TEST_LOG_LEVEL=debug shows what the code under test logs.
  const logger = createLogger({
    level: (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent',
    name: 'test',
  });
  return {
    config,
    logger,
    kafka: createKafka(config.kafka, logger, 'test'),
    registry: new SchemaRegistryClient(config.schemaRegistry),
  };
}
