import { type Command, InvalidArgumentError } from 'commander';
import { LoadedModel } from '../../processors/classify/onnx-engine.js';
import { createEmotionEngine, resolveRegistryModels } from '../../processors/classify/pipeline.js';
import { createLogger } from '../../runtime/logger.js';
import { type DatasetFormat, defaultDatasetsDir, loadDataset, type Split } from '../../training/datasets.js';
import { trainEncoderModel } from '../../training/encoder-trainer.js';
import { evaluateModel, type Task } from '../../training/evaluate.js';
import { trainBagOfWords, writeHuggingFaceModel } from '../../training/hf-export.js';
import { outOfDomainReport, writeOutOfDomainMetrics } from '../../training/out-of-domain.js';
import { trainModel } from '../../training/train.js';
import { loadConfig } from '../config.js';
import { choice, integer } from '../options.js';
import { terminalProgress } from '../progress.js';

export function registerModelCommands(program: Command): void {
  program
    .command('train')
    .description('train an emotion model from the shared datasets, export it to ONNX and evaluate it')
    .requiredOption('--lang <lang>', 'en (GoEmotions) or ro (RED v1)', choice(['en', 'ro'] as const))
    .requiredOption('--out <dir>', 'model directory to write')
    .option(
      '--datasets <dir>',
      'the shared datasets directory (default: EMOTION_STREAM_DATASETS, else ../shared/datasets)',
    )
    .option('--seed <n>', 'seed of the feature hashing (training is deterministic for a seed)', integer, 1)
    .option('--workers <n>', 'worker threads for fitting (default: one per core)', integer)
    .option(
      '--tier <tier>',
      'fast: the bag-of-words model (minutes); encoder: fine-tune all-MiniLM-L6-v2 with PyTorch (English; about 40 minutes on 2 cores)',
      choice(['fast', 'encoder'] as const),
      'fast',
    )
    .option('--epochs <n>', 'encoder tier: passes over the training data', integer, 3)
    .option('--no-xed', "encoder tier: train on GoEmotions only, without XED's subtitle lines")
    .option('--xed-head', "encoder tier: XED's lines train a core head of their own that is not served")
    .action(
      async (options: {
        lang: 'en' | 'ro';
        out: string;
        datasets?: string;
        seed: number;
        workers?: number;
        tier: 'fast' | 'encoder';
        epochs: number;
        xed: boolean;
        xedHead?: boolean;
      }) => {
        const config = loadConfig();
        const logger = createLogger({ level: config.logLevel, name: 'train' });
        const started = Date.now();
        const datasetsDir = options.datasets ?? config.datasetsDir;
        if (options.tier === 'encoder') {
          if (options.lang !== 'en')
            throw new InvalidArgumentError(
              '--tier encoder trains English only (no multilingual encoder here)',
            );
          const metrics = await trainEncoderModel({
            outDir: options.out,
            logger,
            seed: options.seed,
            epochs: options.epochs,
            xed: options.xed,
            xedHead: options.xedHead ?? false,
            ...(datasetsDir ? { datasetsDir } : {}),
          });
          process.stdout.write(
            `${metrics.model.name} ${metrics.model.version} → ${options.out} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
              `  test core macro-F1 ${metrics.test.core?.macroF1.toFixed(4)}, fine macro-F1 ${metrics.test.fine?.macroF1.toFixed(4)}\n` +
              `  model.onnx ${(metrics.sizeBytes / 1e6).toFixed(1)} MB\n`,
          );
          return;
        }
        const metrics = await trainModel({
          language: options.lang,
          outDir: options.out,
          ...((options.datasets ?? config.datasetsDir)
            ? { datasetsDir: options.datasets ?? config.datasetsDir }
            : {}),
          seed: options.seed,
          ...(options.workers ? { workers: options.workers } : {}),
          logger,
          progress: terminalProgress(),
          command: `emotion-stream train --lang ${options.lang} --out ${options.out} --seed ${options.seed}`,
        });
        const { core, fine } = metrics.test;
        process.stdout.write(
          `${metrics.model.name} ${metrics.model.version} → ${options.out} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
            `  test core macro-F1 ${core?.macroF1.toFixed(4)}, accuracy ${core?.accuracy.toFixed(4)} (n=${core?.n})` +
            (fine ? `\n  test fine macro-F1 ${fine.macroF1.toFixed(4)}` : '') +
            `\n  model.onnx ${(metrics.sizeBytes / 1e6).toFixed(1)} MB\n`,
        );
      },
    );

  program
    .command('export-hf')
    .description(
      'train a small bag-of-words English model and write it in Hugging Face layout (for the transformers engine)',
    )
    .requiredOption('--out <dir>', 'directory to write (config.json, tokenizer.json, onnx/model.onnx)')
    .option(
      '--datasets <dir>',
      'the shared datasets directory (default: EMOTION_STREAM_DATASETS, else ../shared/datasets)',
    )
    .option('--vocabulary <n>', 'most frequent words to keep', integer, 20_000)
    .action(async (options: { out: string; datasets?: string; vocabulary: number }) => {
      const datasetsDir = options.datasets ?? loadConfig().datasetsDir;
      const model = await trainBagOfWords({
        vocabularySize: options.vocabulary,
        ...(datasetsDir ? { datasetsDir } : {}),
      });
      writeHuggingFaceModel(model, options.out);
      process.stdout.write(
        `wrote ${options.out} (${model.vocabulary.length} words); load it with CLASSIFY_ENGINE=transformers TRANSFORMERS_MODEL=${options.out}\n`,
      );
    });

  program
    .command('eval')
    .description('evaluate a model on labelled data: macro-F1, accuracy, per-class precision/recall/F1')
    .requiredOption('--model <dir|en|ro>', 'a model directory, or the code of a shipped model')
    .requiredOption('--data <path>', 'dataset directory (or, for csv, a file)')
    .requiredOption(
      '--format <format>',
      'goemotions, red-v1 or csv (text,label with core class names)',
      choice(['goemotions', 'red-v1', 'csv'] as const),
    )
    .option(
      '--task <task>',
      'core (7 classes) or fine (28 GoEmotions labels)',
      choice(['core', 'fine'] as const),
      'core',
    )
    .option('--split <split>', 'train, dev or test', choice(['train', 'dev', 'test'] as const), 'test')
    .option('--json', 'print the report as one JSON object on the last line')
    .action(
      async (options: {
        model: string;
        data: string;
        format: DatasetFormat;
        task: Task;
        split: Split;
        json?: boolean;
      }) => {
        const examples = loadDataset(options.format, options.data, options.split);
        const model = await LoadedModel.load(options.model);
        try {
          const report = await evaluateModel(model, options.format, options.task, examples);
          if (options.json) {
            process.stdout.write(`${JSON.stringify(report)}\n`);
            return;
          }
          process.stdout.write(
            `${model.labels.name} ${model.labels.modelVersion} on ${options.data} (${options.split}, ${options.task}, ${report.mode}, n=${report.n})\n` +
              `macro-F1 ${report.macroF1.toFixed(4)}   accuracy ${report.accuracy.toFixed(4)}\n\n` +
              `${'class'.padEnd(16)}${'precision'.padStart(10)}${'recall'.padStart(10)}${'F1'.padStart(10)}${'support'.padStart(10)}\n` +
              Object.entries(report.perClass)
                .map(
                  ([name, m]) =>
                    `${name.padEnd(16)}${m.precision.toFixed(3).padStart(10)}${m.recall.toFixed(3).padStart(10)}${m.f1.toFixed(3).padStart(10)}${String(m.support).padStart(10)}`,
                )
                .join('\n') +
              '\n',
          );
        } finally {
          await model.close();
        }
      },
    );

  program
    .command('eval-ood')
    .description(
      'a model on the out-of-domain sets of its language (eval/out-of-domain, XED) and on sentiment: accuracy, macro-F1, neutral share',
    )
    .requiredOption(
      '--model <dir|code>',
      'a model directory, or the code of a shipped model (en, en-encoder, ro)',
    )
    .option(
      '--datasets <dir>',
      'the shared datasets directory (default: EMOTION_STREAM_DATASETS, else ../shared/datasets)',
    )
    .option('--write', "store the report in the model's metrics.json (outOfDomain)")
    .option('--json', 'print the report as one JSON object on the last line')
    .action(async (options: { model: string; datasets?: string; write?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const datasets = options.datasets ?? config.datasetsDir ?? defaultDatasetsDir();
      const model = await LoadedModel.load(options.model);
      try {
        const report = await outOfDomainReport(model, datasets);
        if (options.write) writeOutOfDomainMetrics(model.directory.dir, report);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        process.stdout.write(`${model.labels.name} ${model.labels.modelVersion}\n\n`);
        for (const [name, set] of Object.entries(report.sets)) {
          process.stdout.write(
            `${name.padEnd(22)} n=${String(set.n).padEnd(5)} accuracy ${set.core.accuracy.toFixed(3)}  macro-F1 ${set.core.macroF1.toFixed(3)}  ` +
              `neutral ${set.neutralShare.predicted.toFixed(2)} (gold ${set.neutralShare.gold.toFixed(2)})  sentiment macro-F1 ${set.sentiment.macroF1.toFixed(3)}\n`,
          );
        }
        const inDomain = report.sentiment.inDomain;
        process.stdout.write(
          `${'sentiment (test)'.padEnd(22)} n=${String(inDomain.n).padEnd(5)} accuracy ${inDomain.accuracy.toFixed(3)}  macro-F1 ${inDomain.macroF1.toFixed(3)}\n`,
        );
      } finally {
        await model.close();
      }
    });

  program
    .command('predict')
    .description(
      'the emotions of a text, with the configured classify engine (default: the shipped ONNX models)',
    )
    .argument('<text...>', 'the text (several arguments are joined with spaces)')
    .option('--lang <lang>', 'language of the text (ISO 639-1); detected when absent')
    .option('--json', 'print the scores as JSON')
    .action(async (words: string[], options: { lang?: string; json?: boolean }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'predict' });
      const engine = await createEmotionEngine(await resolveRegistryModels(config, logger), logger);
      try {
        const [result] = await engine.run([words.join(' ')], options.lang ? { lang: options.lang } : {});
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        const r = result!;
        const bar = (score: number) => '█'.repeat(Math.round(score * 30)).padEnd(30, '·');
        process.stdout.write(
          `${r.topLabel}   (language ${r.language}${r.languageFallback ? `, fallback for ${r.detectedLanguage}` : ''}; ${r.model.name} ${r.model.version})\n\n` +
            Object.entries(r.core)
              .map(([emotion, score]) =>
                score === null
                  ? `${emotion.padEnd(10)} ${'(not in this model)'.padEnd(30)}`
                  : `${emotion.padEnd(10)} ${bar(score)} ${score.toFixed(3)}${r.labels.includes(emotion as never) ? '  ◀' : ''}`,
              )
              .join('\n') +
            `\n\nsentiment: polarity ${r.sentiment.polarity.toFixed(2)} (−1 negative … +1 positive), intensity ${r.sentiment.intensity.toFixed(2)}\n` +
            (r.fine
              ? `\ntop fine-grained: ${Object.entries(r.fine)
                  .sort((a, b) => b[1] - a[1])
                  .slice(0, 3)
                  .map(([label, score]) => `${label} ${score.toFixed(2)}`)
                  .join(', ')}\n`
              : ''),
        );
      } finally {
        await engine.close();
      }
    });
}
