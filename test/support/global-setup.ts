import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../cli/config.js';
import { createLogger } from '../../runtime/logger.js';
import { LocalStack } from '../../runtime/stack/local-stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
    /** The embedded broker's log directory ('' when the tests run against a cluster of their own). */
    kafkaLogDir: string;
  }
}

let stack: LocalStack | undefined;
let dataDir: string | undefined;

/**
 * Starts the real components once for the run: Kafka, the schema registry and Azurite, unless
 * KAFKA_BROKERS / SCHEMA_REGISTRY_URL / AZURE_STORAGE_CONNECTION_STRING already point at running ones.
 */
export async function setup(project: TestProject): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: (process.env.TEST_STACK_LOG_LEVEL as 'info') ?? 'warn',
    name: 'test-stack',
  });
  dataDir = mkdtempSync(join(tmpdir(), 'emotion-stream-test-'));
  stack = await LocalStack.start({ config, dataDir, logger });
  const env = stack.env();
  Object.assign(process.env, env);
  project.provide('stackEnv', env);
  project.provide('kafkaLogDir', config.kafka.brokers ? '' : join(dataDir, 'kafka', 'kraft'));
}

export async function teardown(): Promise<void> {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
