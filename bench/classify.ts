/**
 * The emotion engine alone, on one core: model load time and size, featurization cost, and
 * predictions per second for single texts (one classify call per text) and for batches.
 */
import { readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { readModelDirectory } from '../processors/classify/model-directory.js';
import { LoadedModel, OnnxEmotionEngine } from '../processors/classify/onnx-engine.js';
import { defaultDatasetsDir, loadGoEmotions } from '../training/datasets.js';
import { format, printTable } from './table.js';

const FALLBACK_TEXTS = [
  'Thank you so much, this is wonderful news!',
  'I am so angry at them, this is outrageous',
  'The meeting is on Thursday at three.',
  'My dog died yesterday and I miss him so much',
];

function texts(): string[] {
  try {
    return loadGoEmotions(join(defaultDatasetsDir(), 'goemotions'), 'test').map((e) => e.text);
  } catch {
    return Array.from({ length: 1000 }, (_, i) => FALLBACK_TEXTS[i % FALLBACK_TEXTS.length]!);
  }
}

async function rate(seconds: number, step: () => Promise<number>): Promise<number> {
  // Warm up the JIT and the runtime's allocations before measuring.
  const warm = performance.now();
  while (performance.now() - warm < 500) await step();
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) done += await step();
  return done / ((performance.now() - start) / 1000);
}

function directorySize(dir: string): number {
  return readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

export async function main(json: boolean): Promise<void> {
  const sample = texts();
  const rssBefore = process.memoryUsage().rss;
  const loadStart = performance.now();
  const model = await LoadedModel.load('en');
  const loadMs = performance.now() - loadStart;
  const memoryMb = (process.memoryUsage().rss - rssBefore) / 1e6;
  const sizeMb = directorySize(readModelDirectory('en').dir) / 1e6;
  const engine = await OnnxEmotionEngine.load();

  let i = 0;
  const next = () => sample[i++ % sample.length]!;
  for (let n = 0; n < 5_000; n++) model.featurizer.featurize(next()); // JIT warm-up
  const featurizeStart = performance.now();
  for (let n = 0; n < 20_000; n++) model.featurizer.featurize(next());
  const featurizeUs = ((performance.now() - featurizeStart) / 20_000) * 1000;

  const single = await rate(5, async () => (await engine.classify([next()], { lang: 'en' })).length);
  const singleDetect = await rate(5, async () => (await engine.classify([next()])).length);
  const batch64 = await rate(
    5,
    async () => (await engine.classify(Array.from({ length: 64 }, next), { lang: 'en' })).length,
  );
  const batch256 = await rate(
    5,
    async () => (await engine.classify(Array.from({ length: 256 }, next), { lang: 'en' })).length,
  );
  await engine.close();
  await model.close();

  const figures = {
    single_rps: Math.round(single),
    single_detect_rps: Math.round(singleDetect),
    batch64_rps: Math.round(batch64),
    batch256_rps: Math.round(batch256),
    featurize_us: Number(featurizeUs.toFixed(1)),
    load_ms: Math.round(loadMs),
    memory_mb: Math.round(memoryMb),
    size_mb: Number(sizeMb.toFixed(1)),
  };
  printTable(`classify benchmark (English model, one core for inference; ${cpus()[0]?.model ?? 'cpu'})`, [
    ['single text, language given (texts/s)', format(figures.single_rps)],
    ['single text, language detected (texts/s)', format(figures.single_detect_rps)],
    ['batches of 64 (texts/s)', format(figures.batch64_rps)],
    ['batches of 256 (texts/s)', format(figures.batch256_rps)],
    ['featurization (µs/text)', format(figures.featurize_us, 1)],
    ['model load (ms)', format(figures.load_ms)],
    ['memory after load (MB RSS)', format(figures.memory_mb)],
    ['model directory (MB)', format(figures.size_mb, 1)],
  ]);
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}
