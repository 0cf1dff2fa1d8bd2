import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { PIPELINE_STAGE_NAMES, PIPELINE_STAGES, type PipelineStageName } from '../../processors/stages.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { redriveDeadLetters } from '../../runtime/kafka/dlq-redrive.js';
import { groupIdOf, groupNameOf } from '../../runtime/kafka/group-ids.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics/registry.js';
import { replayRange } from '../../runtime/stage/replay.js';
import { startTracing } from '../../runtime/tracing/start-tracing.js';
import {
  avroSchemas,
  deadLetterTopicOf,
  type EmotionResult,
  TOPICS,
  topicNames,
} from '../../schemas/index.js';
import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { choice } from '../options.js';
import { terminalProgress } from '../progress.js';

/** A point in a topic: an ISO time / epoch ms, or per-partition offsets `0=120,1=98`. */
type TopicPoint = { timeMs: number } | { offsets: Map<number, bigint> };

export function topicPoint(value: string): TopicPoint {
  if (/^\d+=\d+(,\d+=\d+)*$/.test(value)) {
    return {
      offsets: new Map(
        value.split(',').map((pair) => {
          const [partition, offset] = pair.split('=') as [string, string];
          return [Number(partition), BigInt(offset)];
        }),
      ),
    };
  }
  const timeMs = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(timeMs)) {
    throw new InvalidArgumentError(
      'expected an ISO time, epoch ms, or partition=offset pairs such as 0=120,1=98',
    );
  }
  return { timeMs };
}

/** An ISO time or epoch ms, as epoch ms. */
function timeOption(value: string): number {
  const point = topicPoint(value);
  if (!('timeMs' in point)) throw new InvalidArgumentError('expected an ISO time or epoch ms');
  return point.timeMs;
}

function describePoint(point: TopicPoint | undefined, fallback: string): string {
  if (!point) return fallback;
  return 'timeMs' in point
    ? new Date(point.timeMs).toISOString()
    : [...point.offsets].map(([p, o]) => `${p}=${o}`).join(',');
}

export function registerOperationsCommands(program: Command): void {
  program
    .command('replay')
    .description(
      'reprocess a range of a pipeline topic through a stage (and model version) into an output topic, exactly once; ' +
        're-running the same replay resumes it or finds it done',
    )
    .requiredOption('--stage <name>', PIPELINE_STAGE_NAMES.join(' | '), choice(PIPELINE_STAGE_NAMES))
    .option('--topic <name>', "topic to read (default: the stage's input); any topic of the same record type")
    .option(
      '--from <point>',
      'ISO time, epoch ms, or partition=offset pairs (default: the start of the topic)',
      topicPoint,
    )
    .option(
      '--to <point>',
      'ISO time, epoch ms, or partition=offset pairs, exclusive (default: the end now)',
      topicPoint,
    )
    .option('--output <topic>', "topic to write (default: the stage's output, e.g. emotions)")
    .option(
      '--model <lang=spec,...>',
      'classify: the models to use, as CLASSIFY_MODELS (e.g. en=registry:emotion-stream-en@r2026…)',
    )
    .option('--group <id>', 'consumer group of the replay (default: derived from what is replayed)')
    .action(
      async (options: {
        stage: PipelineStageName;
        topic?: string;
        from?: TopicPoint;
        to?: TopicPoint;
        output?: string;
        model?: string;
        group?: string;
      }) => {
        const config = loadConfig(
          options.model ? { ...process.env, CLASSIFY_MODELS: options.model } : process.env,
        );
        const logger = createLogger({ level: config.logLevel, name: 'replay' });
        const stage = PIPELINE_STAGES[options.stage];
        const topics = topicNames(config.topics.prefix);
        const input = options.topic ?? topics[stage.input];
        const known = Object.entries(TOPICS).find(([key]) => topics[key as keyof typeof TOPICS] === input);
        if (!known || known[1].value !== stage.inputSchema) {
          throw new UsageError(
            `--topic ${input} is not a pipeline topic of ${stage.inputSchema} records, which ${options.stage} reads`,
          );
        }
        const output = options.output ?? topics[stage.output];
        const groupId =
          options.group ??
          groupIdOf(
            config.topics.prefix,
            `replay-${options.stage}-${createHash('sha256')
              .update(
                JSON.stringify([
                  input,
                  output,
                  describePoint(options.from, ''),
                  describePoint(options.to, ''),
                  options.model ?? '',
                ]),
              )
              .digest('hex')
              .slice(0, 12)}`,
          );
        const context = { config, logger, metrics: createMetricsRegistry({ service: 'replay' }) };
        const tracing = await startTracing('replay', logger);
        const perClass = new Map<string, number>();
        const versions = new Set<string>();
        const progress = terminalProgress();
        let stepStarted = false;
        process.stderr.write(
          `replaying ${input} ${describePoint(options.from, 'start')} → ${describePoint(options.to, 'now')} through ${options.stage} into ${output} (group ${groupId})\n`,
        );
        const summary = await replayRange(context, {
          name: `replay-${options.stage}`,
          groupId,
          input: { topic: input, schema: avroSchemas[stage.inputSchema] },
          output: { topic: output, schema: avroSchemas[stage.outputSchema] },
          handler: await stage.open(context, output),
          ...(options.from && 'timeMs' in options.from ? { fromMs: options.from.timeMs } : {}),
          ...(options.from && 'offsets' in options.from ? { fromOffsets: options.from.offsets } : {}),
          ...(options.to && 'timeMs' in options.to ? { toMs: options.to.timeMs } : {}),
          ...(options.to && 'offsets' in options.to ? { toOffsets: options.to.offsets } : {}),
          onProgress: (done, total) => {
            if (!stepStarted) {
              progress.step('records', Number(total));
              stepStarted = true;
            }
            progress.advance(Number(done));
          },
          onOutputs: (outputs) => {
            for (const { value } of outputs) {
              if (stage.outputSchema !== 'EmotionResult') continue;
              const result = value as EmotionResult;
              perClass.set(result.topLabel, (perClass.get(result.topLabel) ?? 0) + 1);
              versions.add(`${result.model.name}@${result.model.version}`);
            }
          },
        });
        progress.end();
        await tracing.shutdown();
        const seconds = summary.durationMs / 1000;
        process.stdout.write(
          `${summary.records} records replayed into ${output} in ${seconds.toFixed(1)} s` +
            (summary.records > 0 ? ` (${Math.round(summary.records / seconds)}/s)` : '') +
            `${summary.resumed ? ', resuming an earlier run' : ''}; ${summary.outputs} outputs, ${summary.skipped} outside the time range\n` +
            (versions.size > 0 ? `  models      ${[...versions].join(', ')}\n` : '') +
            (perClass.size > 0
              ? `  top labels  ${[...perClass]
                  .sort((a, b) => b[1] - a[1])
                  .map(([label, n]) => `${label} ${n}`)
                  .join(', ')}\n`
              : '') +
            (summary.records === 0 && summary.resumed ? '  (this replay had already finished)\n' : ''),
        );
      },
    );

  const dlq = program.command('dlq').description('dead-letter topics');
  dlq
    .command('redrive')
    .description(
      'send the dead letters of a range back to the topic each came from, exactly once, once the cause is fixed; ' +
        're-running the same redrive resumes it or finds it done',
    )
    .requiredOption(
      '--topic <name>',
      'the topic whose dead letters to redrive (or its .dlq), e.g. segments.raw',
    )
    .option('--from <time>', 'ISO time or epoch ms (default: the start of the dead-letter topic)', timeOption)
    .option('--to <time>', 'ISO time or epoch ms (default: now)', timeOption)
    .option('--dry-run', 'count the dead letters by origin and error, send nothing')
    .action(async (options: { topic: string; from?: number; to?: number; dryRun?: boolean }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'dlq' });
      const prefixed = options.topic.startsWith(config.topics.prefix)
        ? options.topic
        : `${config.topics.prefix}${options.topic}`;
      const deadLetterTopic = prefixed.endsWith('.dlq') ? prefixed : deadLetterTopicOf(prefixed);
      const fallbackTopic = deadLetterTopic.slice(0, -'.dlq'.length);
      const groupId = groupIdOf(
        config.topics.prefix,
        `dlq-redrive-${createHash('sha256')
          .update(JSON.stringify([deadLetterTopic, options.from ?? null, options.to ?? null]))
          .digest('hex')
          .slice(0, 12)}`,
      );
      const kafka = createKafka(config.kafka, logger, 'dlq-redrive');
      const progress = terminalProgress();
      let stepStarted = false;
      const summary = await redriveDeadLetters({
        kafka,
        logger,
        deadLetterTopic,
        fallbackTopic,
        groupId,
        ...(options.from !== undefined ? { fromMs: options.from } : {}),
        ...(options.to !== undefined ? { toMs: options.to } : {}),
        dryRun: options.dryRun ?? false,
        stage: config.stage,
        onProgress: (done, total) => {
          if (!stepStarted) {
            progress.step('dead letters', Number(total));
            stepStarted = true;
          }
          progress.advance(Number(done));
        },
      });
      progress.end();
      const origins = Object.entries(summary.byOrigin)
        .sort((a, b) => b[1] - a[1])
        .map(([origin, n]) => `  ${String(n).padStart(8)}  ${origin}\n`)
        .join('');
      process.stdout.write(
        options.dryRun
          ? `${summary.records} dead letters in ${deadLetterTopic} (dry run: nothing sent)\n${origins}`
          : `${summary.records} dead letters sent back from ${deadLetterTopic} in ${(summary.durationMs / 1000).toFixed(1)} s` +
              `${summary.resumed ? ', resuming an earlier run' : ''} (group ${groupId})\n${origins}` +
              (summary.records === 0 && summary.resumed ? '  (this redrive had already finished)\n' : ''),
      );
    });

  const offsets = program.command('offsets').description("a consumer group's committed offsets");
  offsets
    .command('reset')
    .description("move a stopped group's offsets to a time, so it reprocesses (or skips) from there")
    .requiredOption('--group <id>', 'the group, e.g. emotion-stream.classify')
    .requiredOption('--to-time <time>', 'ISO time or epoch ms', (value: string) => {
      const point = topicPoint(value);
      if (!('timeMs' in point)) throw new InvalidArgumentError('expected an ISO time or epoch ms');
      return point.timeMs;
    })
    .option('--topic <name>', "the topic (default: the stage's input topic for a stage's group)")
    .action(async (options: { group: string; toTime: number; topic?: string }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'offsets' });
      const topics = topicNames(config.topics.prefix);
      const groupName = groupNameOf(config.topics.prefix, options.group) ?? '';
      const stage = PIPELINE_STAGE_NAMES.find(
        (name) => groupName === name || groupName.startsWith(`${name}-`),
      );
      const topic = options.topic ?? (stage ? topics[PIPELINE_STAGES[stage].input] : undefined);
      if (!topic) throw new UsageError(`--topic is needed: ${options.group} is not a stage's group`);
      const admin = createKafka(config.kafka, logger, 'offsets').admin();
      await admin.connect();
      try {
        const description = await admin.describeGroups([options.group]);
        const members = description.groups[0]?.members.length ?? 0;
        if (members > 0) {
          throw new UsageError(
            `${options.group} has ${members} active member(s); stop its instances first (Kafka refuses to move a live group's offsets)`,
          );
        }
        const target = await admin.fetchTopicOffsetsByTimestamp(topic, options.toTime);
        await admin.setOffsets({ groupId: options.group, topic, partitions: target });
        process.stdout.write(
          `${options.group} on ${topic} now at ${new Date(options.toTime).toISOString()}: ` +
            `${target.map((p) => `${p.partition}=${p.offset}`).join(', ')}\n`,
        );
      } finally {
        await admin.disconnect();
      }
    });
}
