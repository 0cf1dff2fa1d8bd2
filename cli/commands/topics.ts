import type { Command } from 'commander';
import { createLogger } from '../../runtime/logger.js';
import { plannedTopics } from '../../schemas/index.js';
import { loadConfig } from '../config.js';
import { createPipelineTopics, registerPipelineSchemas } from '../provision.js';

export function registerTopicCommands(program: Command): void {
  const topics = program.command('topics').description('the pipeline topics, from their one definition');
  topics
    .command('list')
    .description('print every topic with its partitions and settings (no cluster needed)')
    .action(() => {
      const config = loadConfig();
      for (const topic of plannedTopics(config.topics)) {
        const settings = Object.entries(topic.config)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        process.stdout.write(
          `${topic.name}\t${topic.partitions} partitions\t${topic.value ?? '(dead letters)'}\t${settings}\n`,
        );
      }
    });
  topics
    .command('create')
    .description(
      "create missing topics, grow under-partitioned ones and set the topology's settings on existing ones (KAFKA_BROKERS)",
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'topics' });
      const result = await createPipelineTopics(config, logger);
      process.stdout.write(
        `created ${result.created.length}, already present ${result.existing.length}, grown ${result.grown.length}, ` +
          `settings fixed ${result.reconfigured.length}\n` +
          result.weaker.map((problem) => `warning: ${problem}: reassign its partitions\n`).join(''),
      );
    });

  program
    .command('schemas')
    .description('schema registry subjects')
    .command('register')
    .description('register every topic value schema on SCHEMA_REGISTRY_URL (BACKWARD compatibility)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'schemas' });
      for (const { subject, id } of await registerPipelineSchemas(config, logger)) {
        process.stdout.write(`${subject}\tid ${id}\n`);
      }
    });
}
