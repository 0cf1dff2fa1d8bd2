import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CORE_EMOTIONS, FINE_EMOTIONS, isCoreEmotion } from '../processors/classify/labels.js';
import { packageRoot } from '../runtime/package-root.js';

export type DatasetFormat = 'goemotions' | 'red-v1' | 'csv';
export type Split = 'train' | 'dev' | 'test';

/** One labelled text; labels are names (fine-grained GoEmotions names, or core classes). */
export interface Example {
  text: string;
  labels: string[];
}

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** The shared datasets beside the project (../shared/datasets); EMOTION_STREAM_DATASETS (config) moves them. */
export function defaultDatasetsDir(): string {
  return join(packageRoot(), '..', 'shared', 'datasets');
}

function readText(path: string): string {
  if (!existsSync(path)) throw new DatasetError(`dataset file not found: ${path}`);
  return readFileSync(path, 'utf8');
}

/** GoEmotions TSV: text, comma-separated label ids, comment id. Labels come back as names. */
export function loadGoEmotions(dir: string, split: Split): Example[] {
  const names = readText(join(dir, 'emotions.txt'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (names.join() !== FINE_EMOTIONS.join()) {
    throw new DatasetError(`${dir}/emotions.txt does not list the 28 GoEmotions labels in their usual order`);
  }
  return readText(join(dir, `${split}.tsv`))
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const [text, ids] = line.split('\t');
      if (text === undefined || ids === undefined)
        throw new DatasetError(`${split}.tsv line ${i + 1}: expected 3 tab-separated columns`);
      return {
        text,
        labels: ids.split(',').map((id) => {
          const name = names[Number(id)];
          if (!name) throw new DatasetError(`${split}.tsv line ${i + 1}: unknown label id ${id}`);
          return name;
        }),
      };
    });
}

/** The dataset's own Ekman grouping (ekman_mapping.json) plus neutral, as fine name → core class. */
export function loadEkmanMapping(dir: string): Record<string, string> {
  const groups = JSON.parse(readText(join(dir, 'ekman_mapping.json'))) as Record<string, string[]>;
  const mapping: Record<string, string> = { neutral: 'neutral' };
  for (const [core, fines] of Object.entries(groups)) for (const fine of fines) mapping[fine] = core;
  return mapping;
}

const RED_LABELS: Record<string, string> = {
  furie: 'anger',
  frica: 'fear',
  bucurie: 'joy',
  tristete: 'sadness',
  neutru: 'neutral',
};

function stripDiacritics(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '');
}

/** RED v1 CSV (Tweet, Emotion); its 5 Romanian labels mapped onto the core classes. */
export function loadRedV1(dir: string, split: Split): Example[] {
  const file = join(dir, `${split === 'dev' ? 'val' : split}.csv`);
  const rows = parse(readText(file), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
  return rows.map((row, i) => {
    const label =
      RED_LABELS[
        stripDiacritics(row.Emotion ?? '')
          .trim()
          .toLowerCase()
      ];
    if (!label || row.Tweet === undefined)
      throw new DatasetError(`${file} row ${i + 2}: no Tweet or unknown Emotion '${row.Emotion}'`);
    return { text: row.Tweet, labels: [label] };
  });
}

/** Any `text,label` CSV (header required) whose labels are core class names; `a;b` for several. */
export function loadLabelledCsv(file: string): Example[] {
  return parseLabelledCsv(readText(file), file);
}

/** The rows of `text,label` CSV text; `source` names it in errors. */
export function parseLabelledCsv(text: string, source: string): Example[] {
  const file = source;
  const rows = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Array<
    Record<string, string>
  >;
  return rows.map((row, i) => {
    if (row.text === undefined || row.label === undefined) {
      throw new DatasetError(`${file}: needs a header with the columns text,label (row ${i + 2})`);
    }
    const labels = row.label.split(';').map((label) => label.trim().toLowerCase());
    const unknown = labels.find((label) => !isCoreEmotion(label));
    if (unknown)
      throw new DatasetError(`${file} row ${i + 2}: '${unknown}' is not one of ${CORE_EMOTIONS.join(', ')}`);
    return { text: row.text, labels };
  });
}

/** Loads a split in any supported format; a directory path means `<dir>/<split file>`. */
export function loadDataset(format: DatasetFormat, path: string, split: Split): Example[] {
  switch (format) {
    case 'goemotions':
      return loadGoEmotions(path, split);
    case 'red-v1':
      return loadRedV1(path, split);
    case 'csv':
      return loadLabelledCsv(
        existsSync(path) && statSync(path).isDirectory() ? join(path, `${split}.csv`) : path,
      );
  }
}
