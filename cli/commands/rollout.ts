import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { compareWithShadow } from '../../processors/classify/shadow-comparison.js';
import { BlobStore } from '../../runtime/blob/blob-store.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { readTopicRange } from '../../runtime/kafka/topic-range-reader.js';
import { createLogger } from '../../runtime/logger.js';
import { parseWeights, RolloutWeightsError, weightsAt } from '../../runtime/rollout/rollout-plan.js';
import { changeRolloutWeights, readRolloutPlan } from '../../runtime/rollout/rollout-plans.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { avroSchemas, type EmotionResult, topicNames } from '../../schemas/index.js';
import { loadConfig } from '../config.js';
import { timeOption } from '../options.js';

function weightsText(weights: { blue: number; green: number }): string {
  return `blue ${weights.blue}% / green ${weights.green}%`;
}

export function registerRolloutCommands(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('blue/green and canary rollout of a stage: the share of keys each colour classifies');
  rollout
    .command('set')
    .description(
      'change the weights (e.g. blue=80 green=20); they apply from a moment far enough ahead that no record is lost or doubled',
    )
    .argument('<weights...>', 'blue=<percent> and/or green=<percent>, adding up to 100')
    .option('--stage <name>', 'the stage whose deployments share the keys', 'classify')
    .option('--grace-ms <ms>', 'how far ahead the change takes effect (default ROLLOUT_GRACE_MS)')
    .option('--note <text>', 'why, kept in the plan')
    .action(async (parts: string[], options: { stage: string; graceMs?: string; note?: string }) => {
      const config = loadConfig();
      let weights: { blue: number; green: number };
      try {
        weights = parseWeights(parts.join(' '));
      } catch (error) {
        if (error instanceof RolloutWeightsError) throw new InvalidArgumentError(error.message);
        throw error;
      }
      const graceMs = options.graceMs === undefined ? config.rollout.graceMs : Number(options.graceMs);
      if (!Number.isInteger(graceMs) || graceMs <= config.rollout.pollMs) {
        throw new InvalidArgumentError(
          `--grace-ms must be a whole number above ROLLOUT_POLL_MS (${config.rollout.pollMs})`,
        );
      }
      const store = BlobStore.connect(config.blob);
      await store.ensureContainer();
      const plan = await changeRolloutWeights(store, {
        stage: `${config.topics.prefix}${options.stage}`,
        weights,
        graceMs,
        ...(options.note ? { note: options.note } : {}),
      });
      const change = plan.changes.at(-1)!;
      process.stdout.write(
        `${options.stage}: ${weightsText(change.weights)} for records from ${new Date(change.fromMs).toISOString()} ` +
          `(in ${((change.fromMs - Date.now()) / 1000).toFixed(1)} s)\n`,
      );
    });
  rollout
    .command('show')
    .description('the weights in force and their history')
    .option('--stage <name>', 'the stage', 'classify')
    .action(async (options: { stage: string }) => {
      const config = loadConfig();
      const plan = await readRolloutPlan(
        BlobStore.connect(config.blob),
        `${config.topics.prefix}${options.stage}`,
      );
      const now = Date.now();
      process.stdout.write(`${options.stage}: now ${weightsText(weightsAt(plan, now))}\n`);
      for (const change of plan?.changes ?? []) {
        process.stdout.write(
          `  from ${new Date(change.fromMs).toISOString()}  ${weightsText(change.weights)}${change.fromMs > now ? '  (pending)' : ''}${change.note ? `  ${change.note}` : ''}\n`,
        );
      }
    });

  program
    .command('compare')
    .description(
      "compare the serving results (emotions) with a shadow deployment's (emotions.shadow) over a time range",
    )
    .option('--from <time>', 'ISO time or epoch ms (default: the start of the topics)', timeOption)
    .option('--to <time>', 'ISO time or epoch ms (default: now)', timeOption)
    .option('--json', 'print the report as one JSON object on the last line')
    .action(async (options: { from?: number; to?: number; json?: boolean }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'compare' });
      const kafka = createKafka(config.kafka, logger, 'compare');
      const registry = new SchemaRegistryClient(config.schemaRegistry);
      const topics = topicNames(config.topics.prefix);
      const read = async (topic: string) => {
        const results: EmotionResult[] = [];
        await readTopicRange<EmotionResult>({
          kafka,
          registry,
          topic,
          schema: avroSchemas.EmotionResult,
          ...(options.from !== undefined ? { fromMs: options.from } : {}),
          ...(options.to !== undefined ? { toMs: options.to } : {}),
          onRecord: (record) => results.push(record.value),
          logger,
        });
        return results;
      };
      const [serving, shadow] = await Promise.all([read(topics.emotions), read(topics.emotionsShadow)]);
      const report = compareWithShadow(serving, shadow);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(
        `serving ${report.versions.serving.join(', ') || '-'}  vs  shadow ${report.versions.shadow.join(', ') || '-'}\n` +
          `${report.pairs} segments compared (${report.servingOnly} serving only, ${report.shadowOnly} shadow only)\n` +
          `top-label agreement ${pct(report.agreement)}, mean score difference ${report.meanScoreDifference.toFixed(4)}\n\n` +
          `${'class'.padEnd(10)}${'serving'.padStart(9)}${'shadow'.padStart(9)}${'agreed'.padStart(9)}\n` +
          Object.entries(report.perClass)
            .map(
              ([label, c]) =>
                `${label.padEnd(10)}${String(c.serving).padStart(9)}${String(c.shadow).padStart(9)}${String(c.agreed).padStart(9)}`,
            )
            .join('\n') +
          (report.topChanges.length > 0
            ? `\n\nmost frequent changes: ${report.topChanges.map((c) => `${c.from}→${c.to} ${c.count}`).join(', ')}`
            : '') +
          '\n',
      );
    });
}
