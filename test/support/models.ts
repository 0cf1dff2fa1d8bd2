import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedModelsDir } from '../../processors/classify/model-directory.js';

/** A copy of a shipped model under another version string: "a new version" for rollout and replay tests. */
export function relabelledModel(language: 'en' | 'ro', version: string): string {
  const dir = mkdtempSync(join(tmpdir(), `model-${version}-`));
  cpSync(join(shippedModelsDir(), language), dir, { recursive: true });
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'));
  writeFileSync(join(dir, 'labels.json'), JSON.stringify({ ...labels, modelVersion: version }));
  return dir;
}
