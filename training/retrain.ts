import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_EMOTIONS } from '../processors/classify/labels.js';
import { ModelRegistry, type RegisteredVersion } from '../processors/classify/model-registry.js';
import type { BlobStore } from '../runtime/blob/blob-store.js';
import type { Logger } from '../runtime/logger.js';
import { latestTrainingSet } from '../sinks/feedback/training-set.js';
import { defaultDatasetsDir, type Example, loadDataset, parseLabelledCsv } from './datasets.js';
import { goldLabels } from './evaluate.js';
import { RECIPES } from './recipes.js';
import { type ModelMetrics, type TrainingProgress, trainModel } from './train.js';

export interface RetrainOptions {
  language: 'en' | 'ro';
  store: BlobStore;
  /** Where the feedback sink keeps its files (the feedback topic's name). */
  feedbackRoot: string;
  datasetsDir?: string;
  seed?: number;
  workers?: number;
  force?: boolean;
  logger: Logger;
  progress?: TrainingProgress;
  command: string;
}

export interface RetrainOutcome {
  name: string;
  version: string;
  registered: boolean;
  previous: RegisteredVersion | undefined;
  metrics: ModelMetrics;
  feedback: { version: string | null; used: number; dropped: number };
  registryDir: string;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The base dataset's files and their hashes, for the lineage of a model. */
function datasetFiles(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => statSync(join(dir, file)).isFile())
      .sort()
      .map((file) => [file, sha256File(join(dir, file))]),
  );
}

function releaseStamp(at: Date): string {
  return `r${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

/**
 * The weekly job: the latest feedback dataset from Blob, merged into the base dataset's train
 * split, trained and evaluated on the base test split, then registered in the model registry with
 * its lineage — unless its macro-F1 is below the current version's and `force` is off.
 */
export async function retrain(options: RetrainOptions): Promise<RetrainOutcome> {
  const { language, store, logger } = options;
  const recipe = RECIPES[language];
  const datasetsDir = options.datasetsDir ?? defaultDatasetsDir();
  const baseDir =
    recipe.dataset === 'goemotions' ? join(datasetsDir, 'goemotions') : join(datasetsDir, 'red-ro', 'v1');

  const manifest = await latestTrainingSet(store, options.feedbackRoot);
  const entry = manifest?.languages[language];
  let feedback: Example[] = [];
  let dropped = 0;
  if (entry) {
    const text = await store.getText(entry.file);
    if (text === undefined)
      throw new Error(`feedback dataset ${manifest!.version} lists ${entry.file}, which is missing`);
    // Only classes the base data has: a single-label model cannot learn a class from a handful of rows.
    const present = new Set(
      goldLabels(recipe.dataset, 'core', loadDataset(recipe.dataset, baseDir, 'train')).flat(),
    );
    const rows = parseLabelledCsv(text, entry.file);
    feedback = rows.filter((row) =>
      row.labels.every((label) => present.has(CORE_EMOTIONS.indexOf(label as never))),
    );
    dropped = rows.length - feedback.length;
  }
  logger.info(
    { feedbackVersion: manifest?.version ?? null, used: feedback.length, dropped },
    feedback.length > 0
      ? 'feedback merged into the train split'
      : 'no feedback for this language; base data only',
  );

  const workDir = mkdtempSync(join(tmpdir(), `retrain-${language}-`));
  try {
    const startedAt = new Date();
    const metrics = await trainModel({
      language,
      outDir: workDir,
      datasetsDir,
      seed: options.seed ?? 1,
      ...(options.workers ? { workers: options.workers } : {}),
      logger,
      ...(options.progress ? { progress: options.progress } : {}),
      command: options.command,
      extraTrain: feedback,
      release: releaseStamp(startedAt),
    });
    const registry = new ModelRegistry(store);
    const current = await registry.index(recipe.name);
    const lineage = {
      model: metrics.model,
      trainedAt: startedAt.toISOString(),
      command: options.command,
      seed: metrics.seed,
      base: {
        dataset: recipe.dataset,
        dir: baseDir,
        files: datasetFiles(baseDir),
        examples: metrics.examples,
      },
      feedback: manifest
        ? {
            version: manifest.version,
            sha256: manifest.sha256,
            file: entry?.file ?? null,
            used: feedback.length,
            dropped,
          }
        : null,
      parent: current.current,
    };
    const registered = await registry.register(workDir, lineage, { force: options.force ?? false });
    return {
      name: registered.name,
      version: registered.version,
      registered: registered.registered,
      previous: registered.previous,
      metrics,
      feedback: { version: manifest?.version ?? null, used: feedback.length, dropped },
      registryDir: registry.versionDir(registered.name, registered.version),
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
