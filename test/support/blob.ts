import { randomBytes } from 'node:crypto';
import type { Config } from '../../cli/config.js';
import { BlobStore } from '../../runtime/blob/blob-store.js';
import type { CoreEmotion, EmotionResult } from '../../schemas/index.js';

/** A container name of its own per test (Azure: lowercase letters, digits, hyphens). */
export function uniqueContainer(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

export async function testBlobStore(config: Config): Promise<BlobStore> {
  const store = BlobStore.connect(config.blob);
  await store.ensureContainer();
  return store;
}

/** Every JSON line of every blob under a prefix, with the blob it came from. */
export async function readJsonLines<T>(
  store: BlobStore,
  prefix: string,
): Promise<Array<{ blob: string; value: T }>> {
  const lines: Array<{ blob: string; value: T }> = [];
  for (const blob of await store.list(prefix)) {
    const text = (await store.getText(blob.name)) ?? '';
    for (const line of text.split('\n')) {
      if (line.trim()) lines.push({ blob: blob.name, value: JSON.parse(line) as T });
    }
  }
  return lines;
}

/** An EmotionResult as the classify stage would write it, for tests that start downstream of it. */
export function emotionResult(
  segmentId: string,
  streamId: string,
  seq: number,
  topLabel: CoreEmotion = 'joy',
): EmotionResult {
  const core = { anger: 0, disgust: 0, fear: 0, joy: 0, neutral: 0, sadness: 0, surprise: 0 };
  core[topLabel] = 0.9;
  return {
    id: `${segmentId}@test-model:1`,
    segmentId,
    streamId,
    seq,
    text: `text of ${segmentId}`,
    originalText: `text of ${segmentId}`,
    language: 'en',
    languageFallback: false,
    core,
    distribution: null,
    fine: null,
    topLabel,
    labels: [topLabel],
    sentiment: null,
    model: { name: 'test-model', version: '1', engine: 'test' },
    startMs: null,
    endMs: null,
    jobId: null,
    speaker: null,
    trace: [{ stage: 'test', atMs: Date.now() }],
  };
}
