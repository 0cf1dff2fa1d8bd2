/**
 * The emotion engine alone, on one core, for each tier (fast = bag-of-words, quality = the
 * fine-tuned encoder) side by side: model load time and size, input preparation cost, and
 * predictions per second for single texts (one classify call per text) and for batches.
 */
import { readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { readModelDirectory } from '../processors/classify/model-directory.js';
import {
  LoadedModel,
  type ModelTier,
  OnnxEmotionEngine,
  shippedModels,
} from '../processors/classify/onnx-engine.js';
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

async function measureTier(tier: ModelTier, sample: string[]) {
  const code = shippedModels(tier).en!;
  const rssBefore = process.memoryUsage().rss;
  const loadStart = performance.now();
  const model = await LoadedModel.load(code);
  const loadMs = performance.now() - loadStart;
  const memoryMb = (process.memoryUsage().rss - rssBefore) / 1e6;
  const sizeMb = directorySize(readModelDirectory(code).dir) / 1e6;
  const engine = await OnnxEmotionEngine.load({ tier });

  let i = 0;
  const next = () => sample[i++ % sample.length]!;
  for (let n = 0; n < 2_000; n++) model.inputs.prepare([next()]); // JIT warm-up
  const prepareStart = performance.now();
  for (let n = 0; n < 5_000; n++) model.inputs.prepare([next()]);
  const prepareUs = ((performance.now() - prepareStart) / 5_000) * 1000;

  const single = await rate(5, async () => (await engine.run([next()], { lang: 'en' })).length);
  const singleDetect = await rate(5, async () => (await engine.run([next()], {})).length);
  const batch64 = await rate(
    5,
    async () => (await engine.run(Array.from({ length: 64 }, next), { lang: 'en' })).length,
  );
  const batch256 = await rate(
    5,
    async () => (await engine.run(Array.from({ length: 256 }, next), { lang: 'en' })).length,
  );
  await engine.close();
  await model.close();
  return {
    model: model.labels.name,
    single_rps: Math.round(single),
    single_detect_rps: Math.round(singleDetect),
    batch64_rps: Math.round(batch64),
    batch256_rps: Math.round(batch256),
    prepare_us: Number(prepareUs.toFixed(1)),
    load_ms: Math.round(loadMs),
    memory_mb: Math.round(memoryMb),
    size_mb: Number(sizeMb.toFixed(1)),
  };
}

export async function main(json: boolean): Promise<void> {
  const sample = texts();
  const figures = { fast: await measureTier('fast', sample), quality: await measureTier('quality', sample) };
  const row = (
    label: string,
    key: Exclude<keyof typeof figures.fast, 'model'>,
    digits = 0,
  ): [string, string, string] => [
    label,
    format(figures.fast[key], digits),
    format(figures.quality[key], digits),
  ];
  printTable(`classify benchmark (English models, one core for inference; ${cpus()[0]?.model ?? 'cpu'})`, [
    ['', `fast (${figures.fast.model})`, `quality (${figures.quality.model})`],
    row('single text, language given (texts/s)', 'single_rps'),
    row('single text, language detected (texts/s)', 'single_detect_rps'),
    row('batches of 64 (texts/s)', 'batch64_rps'),
    row('batches of 256 (texts/s)', 'batch256_rps'),
    row('input preparation (µs/text)', 'prepare_us', 1),
    row('model load (ms)', 'load_ms'),
    row('memory after load (MB RSS)', 'memory_mb'),
    row('model directory (MB)', 'size_mb', 1),
  ]);
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}
