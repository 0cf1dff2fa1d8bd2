import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES, resolveModelDir, shippedModelsDir } from '../../processors/classify/model-directory.js';

/** A copy of a shipped model under another version string: "a new version" for rollout and replay tests. */
export function relabelledModel(language: 'en' | 'ro', version: string): string {
  const dir = mkdtempSync(join(tmpdir(), `model-${version}-`));
  cpSync(join(shippedModelsDir(), language), dir, { recursive: true });
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'));
  writeFileSync(join(dir, 'labels.json'), JSON.stringify({ ...labels, modelVersion: version }));
  return dir;
}

/** The metrics.json a shipped model was committed with (its seed, version and test scores). */
export function shippedMetrics(language: string) {
  return JSON.parse(readFileSync(join(resolveModelDir(language), MODEL_FILES.metrics), 'utf8'));
}
