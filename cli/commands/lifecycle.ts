import type { Command } from 'commander';
import { ModelRegistry } from '../../processors/classify/model-registry.js';
import { BlobStore } from '../../runtime/blob/blob-store.js';
import { createLogger } from '../../runtime/logger.js';
import { topicNames } from '../../schemas/index.js';
import { buildTrainingSet } from '../../sinks/feedback/training-set.js';
import { retrain } from '../../training/retrain.js';
import { loadConfig } from '../config.js';
import { choice, integer } from '../options.js';
import { terminalProgress } from '../progress.js';

/** The model life cycle around the pipeline: feedback datasets, retraining, the registry. */
export function registerLifecycleCommands(program: Command): void {
  program
    .command('retrain')
    .description(
      'retrain a language model on its base dataset plus the latest feedback dataset in Blob, evaluate it on the ' +
        'held-out test split and register it in the model registry (refused if its macro-F1 is below the current version)',
    )
    .requiredOption('--lang <lang>', 'en or ro', choice(['en', 'ro'] as const))
    .option('--force', 'register even if the macro-F1 is below the current version')
    .option(
      '--datasets <dir>',
      'the shared datasets directory (default: EMOTION_STREAM_DATASETS, else ../shared/datasets)',
    )
    .option('--seed <n>', 'seed of the feature hashing', integer, 1)
    .option('--workers <n>', 'worker threads for fitting (default: one per core)', integer)
    .action(
      async (options: {
        lang: 'en' | 'ro';
        force?: boolean;
        datasets?: string;
        seed: number;
        workers?: number;
      }) => {
        const config = loadConfig();
        const logger = createLogger({ level: config.logLevel, name: 'retrain' });
        const store = BlobStore.connect(config.blob);
        await store.ensureContainer();
        const started = Date.now();
        const outcome = await retrain({
          language: options.lang,
          store,
          feedbackRoot: topicNames(config.topics.prefix).feedback,
          ...((options.datasets ?? config.datasetsDir)
            ? { datasetsDir: options.datasets ?? config.datasetsDir }
            : {}),
          seed: options.seed,
          ...(options.workers ? { workers: options.workers } : {}),
          force: options.force ?? false,
          logger,
          progress: terminalProgress(),
          command: `emotion-stream retrain --lang ${options.lang} --seed ${options.seed}${options.force ? ' --force' : ''}`,
        });
        const f1 = outcome.metrics.test.core?.macroF1;
        const previous = outcome.previous
          ? `${outcome.previous.version} (${outcome.previous.coreMacroF1?.toFixed(4) ?? '?'})`
          : 'none';
        process.stdout.write(
          `${outcome.name} ${outcome.version} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
            `  feedback        ${outcome.feedback.version ?? 'none'}: ${outcome.feedback.used} rows used, ${outcome.feedback.dropped} dropped\n` +
            `  test macro-F1   ${f1?.toFixed(4)} (current: ${previous})\n` +
            `  registry        ${config.blob.container}/${outcome.registryDir}/ ${outcome.registered ? 'registered, now current' : 'already registered'}\n` +
            `  serve it with   CLASSIFY_MODELS=${options.lang}=registry:${outcome.name}@${outcome.version}\n`,
        );
      },
    );

  const feedback = program.command('feedback').description('the feedback datasets the feedback sink writes');
  feedback
    .command('dataset')
    .description('rebuild the consolidated training files from the daily feedback files now')
    .action(async () => {
      const config = loadConfig();
      const store = BlobStore.connect(config.blob);
      const { manifest, created } = await buildTrainingSet(store, topicNames(config.topics.prefix).feedback);
      process.stdout.write(
        `${created ? 'wrote' : 'unchanged:'} ${manifest.version}: ${manifest.results} results judged, ` +
          Object.entries(manifest.languages)
            .map(([language, info]) => `${language} ${info.rows} rows`)
            .join(', ') +
          (Object.keys(manifest.unusable).length > 0
            ? `; unusable: ${Object.entries(manifest.unusable)
                .map(([why, n]) => `${n} ${why}`)
                .join(', ')}`
            : '') +
          '\n',
      );
    });

  program
    .command('registry')
    .description('list the versions of a model in the registry')
    .argument('<name>', 'model name, e.g. emotion-stream-en')
    .action(async (name: string) => {
      const config = loadConfig();
      const index = await new ModelRegistry(BlobStore.connect(config.blob)).index(name);
      if (index.versions.length === 0) {
        process.stdout.write(`${name}: no versions registered\n`);
        return;
      }
      for (const version of index.versions) {
        process.stdout.write(
          `${version.version === index.current ? '*' : ' '} ${version.version}  macro-F1 ${version.coreMacroF1?.toFixed(4) ?? '?'}  ` +
            `${new Date(version.registeredAtMs).toISOString()}${version.forced ? '  (forced)' : ''}\n`,
        );
      }
    });
}
