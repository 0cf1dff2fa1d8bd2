import { createHash } from 'node:crypto';
import type { BlobStore } from '../../runtime/blob/blob-store.js';
import type { FeedbackRecord } from './feedback-records.js';

/** One consolidated version of the feedback dataset: `<root>/datasets/<version>/`. */
export interface TrainingSetManifest {
  version: string;
  createdAtMs: number;
  /** Of the CSV contents, so an unchanged dataset is not written again. */
  sha256: string;
  sources: { files: number; records: number };
  /** Results judged (the latest verdict on each counts). */
  results: number;
  languages: Record<string, { file: string; rows: number; labels: Record<string, number> }>;
  unusable: Record<string, number>;
}

export function trainingSetPaths(root: string) {
  return {
    daily: `${root}/daily/`,
    latest: `${root}/datasets/latest.json`,
    dir: (version: string) => `${root}/datasets/${version}`,
  };
}

function csvField(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function versionName(at: Date, sha256: string): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `v${stamp}-${sha256.slice(0, 8)}`;
}

/**
 * Rebuilds the training files from every daily feedback file: the latest verdict per result,
 * one `text,label` CSV per language of the classified text (the format `emotion-stream eval` and
 * `retrain` read). Written as a new version only when its content changed; `latest.json` names it.
 */
export async function buildTrainingSet(
  store: BlobStore,
  root: string,
): Promise<{ manifest: TrainingSetManifest; created: boolean }> {
  const paths = trainingSetPaths(root);
  const files = await store.list(paths.daily);
  const latestPerResult = new Map<string, FeedbackRecord>();
  let records = 0;
  for (const file of files) {
    const text = (await store.getText(file.name)) ?? '';
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      records += 1;
      const record = JSON.parse(line) as FeedbackRecord;
      const seen = latestPerResult.get(record.resultId);
      const newer =
        !seen ||
        record.createdAtMs > seen.createdAtMs ||
        (record.createdAtMs === seen.createdAtMs && record.feedbackId > seen.feedbackId);
      if (newer) latestPerResult.set(record.resultId, record);
    }
  }

  const rows = new Map<string, string[]>();
  const labels = new Map<string, Record<string, number>>();
  const unusable: Record<string, number> = {};
  // Sorted by result id: the same feedback always gives the same bytes, hence the same hash.
  for (const record of [...latestPerResult.values()].sort((a, b) => (a.resultId < b.resultId ? -1 : 1))) {
    if (!record.trainingLabel || !record.result) {
      const reason = record.unusable ?? 'unknown';
      unusable[reason] = (unusable[reason] ?? 0) + 1;
      continue;
    }
    const language = record.result.language;
    rows.set(language, [
      ...(rows.get(language) ?? []),
      `${csvField(record.result.text)},${record.trainingLabel}`,
    ]);
    const counts = labels.get(language) ?? {};
    counts[record.trainingLabel] = (counts[record.trainingLabel] ?? 0) + 1;
    labels.set(language, counts);
  }
  const csv = new Map(
    [...rows].sort().map(([language, lines]) => [language, `text,label\n${lines.join('\n')}\n`]),
  );
  const sha256 = createHash('sha256')
    .update([...csv].map(([language, body]) => `${language}\n${body}`).join('\n'))
    .digest('hex');

  const current = await store.getJson<TrainingSetManifest>(paths.latest);
  if (current?.sha256 === sha256) return { manifest: current, created: false };

  const now = new Date();
  const version = versionName(now, sha256);
  const dir = paths.dir(version);
  const manifest: TrainingSetManifest = {
    version,
    createdAtMs: now.getTime(),
    sha256,
    sources: { files: files.length, records },
    results: latestPerResult.size,
    languages: Object.fromEntries(
      [...csv.keys()].map((language) => [
        language,
        { file: `${dir}/${language}.csv`, rows: rows.get(language)!.length, labels: labels.get(language)! },
      ]),
    ),
    unusable,
  };
  for (const [language, body] of csv) {
    await store.put(`${dir}/${language}.csv`, body, { contentType: 'text/csv' });
  }
  const json = `${JSON.stringify(manifest, null, 2)}\n`;
  await store.put(`${dir}/manifest.json`, json, { contentType: 'application/json' });
  // Last: readers only ever see a version whose files are all written.
  await store.put(paths.latest, json, { contentType: 'application/json' });
  return { manifest, created: true };
}

/** The newest consolidated version, if any. */
export function latestTrainingSet(store: BlobStore, root: string): Promise<TrainingSetManifest | undefined> {
  return store.getJson<TrainingSetManifest>(trainingSetPaths(root).latest);
}
