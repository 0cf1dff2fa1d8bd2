import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../cli/config.js';
import { startClassifyService } from '../../processors/classify/service.js';
import { startCorrectService } from '../../processors/correct/service.js';
import { startTranslateService } from '../../processors/translate/service.js';
import { SegmentProducer } from '../../producers/segment-producer.js';
import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { freePort } from '../../runtime/stack/ports.js';
import { avroSchemas, type EmotionResult, type TextSegment } from '../../schemas/index.js';
import { defaultDatasetsDir, loadGoEmotions, loadRedV1 } from '../../training/datasets.js';
import { chatCompletion, HttpDouble, sendJson, userMessage } from '../support/http-double.js';
import { caughtUp, decodeAll, pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv, type TestStack } from '../support/stack.js';
import { counterValue } from '../support/stage.js';
import { readTopic, textSegment, waitForRecords } from '../support/topics.js';

const services = new TestServices();
const doubles: HttpDouble[] = [];
afterEach(async () => {
  await services.stopAll();
  await Promise.all(doubles.splice(0).map((double) => double.close()));
});

async function start(
  stack: TestStack,
  startService: (context: ServiceContext<Config>) => Promise<RunningService>,
): Promise<Registry> {
  return (await services.start(stack, startService)).metrics;
}

async function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/run.ts', ...args],
      { env: { ...process.env, ...env }, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const csvField = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** Misspelt Romanian without diacritics: the correct stage must restore them. */
const MISSPELT_ROMANIAN = [
  'Mi-a furat cineva masina si sunt foarte suparat',
  'Nu pot sa cred ca mi-au furat masina din fata blocului',
  'Sunt atat de fericita ca am primit masina noua astazi',
  'Masina mea s-a stricat iar si sunt foarte suparata pe service',
  'Mi-e frica sa mai conduc masina pe drumul asta noaptea',
];

describe('text path: produce csv → correct → translate → classify', () => {
  it('turns a 2,000-row CSV mixing English and Romanian into exactly 2,000 results, each by its language model', {
    timeout: 360_000,
  }, async () => {
    const { stack, prefix, overrides, topics } = await pipelineStack('text');
    const datasets = defaultDatasetsDir();
    const english = loadGoEmotions(join(datasets, 'goemotions'), 'test')
      .slice(0, 980)
      .map((e) => e.text);
    const redDir = join(datasets, 'red-ro', 'v1');
    const romanian = [
      ...loadRedV1(redDir, 'test'),
      ...loadRedV1(redDir, 'dev'),
      ...loadRedV1(redDir, 'train'),
    ]
      .slice(0, 980)
      .map((e) => e.text);
    const misspelt = Array.from({ length: 40 }, (_, i) => MISSPELT_ROMANIAN[i % MISSPELT_ROMANIAN.length]!);
    const rows = [
      ...english.map((text, i) => ({ id: `en-${i}`, text, language: 'en' })),
      ...romanian.map((text, i) => ({ id: `ro-${i}`, text, language: 'ro' })),
      ...misspelt.map((text, i) => ({ id: `ro-misspelt-${i}`, text, language: 'ro' })),
    ];
    // Interleaved, as a real mixed upload would be.
    let seed = 7;
    for (let i = rows.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    expect(rows).toHaveLength(2000);
    const csv = join(mkdtempSync(join(tmpdir(), 'text-path-')), 'mixed.csv');
    writeFileSync(csv, `id,text\n${rows.map((r) => `${r.id},${csvField(r.text)}`).join('\n')}\n`);

    for (const service of [startCorrectService, startTranslateService, startClassifyService])
      await start(stack, service);
    // Asynchronously: the stages run in this process and must keep polling meanwhile.
    const produced = await runCli(
      ['produce', 'csv', csv, '--text-column', 'text', '--id-column', 'id'],
      stackEnv(overrides),
    );
    expect(produced.stderr).not.toMatch(/Error/);
    expect(produced.stdout).toMatch(/^produced 2000 rows to .*segments\.raw .*skipped 0$/m);
    expect(produced.status).toBe(0);

    // Until all 2,000 have arrived; then every stage has committed its last transaction, and a
    // fresh read to the end shows any duplicate.
    await waitForRecords(stack.kafka, topics.emotions, 2000, 240_000);
    await caughtUp(stack, prefix, 'correct', topics.segmentsRaw);
    const results = await decodeAll<EmotionResult>(stack, topics.emotions, avroSchemas.EmotionResult);

    // Exactly once, by id.
    expect(results).toHaveLength(2000);
    const bySegment = new Map(results.map((r) => [r.segmentId, r]));
    expect(bySegment.size).toBe(2000);
    expect(rows.every((row) => bySegment.has(row.id))).toBe(true);

    // Each result was scored by the model of the language detected (the default, quality tier:
    // the encoder for English), and detection gets almost all right.
    const modelOf: Record<string, string> = { en: 'emotion-stream-en-encoder', ro: 'emotion-stream-ro' };
    for (const result of results) {
      expect(result.model.name).toBe(modelOf[result.language === 'ro' ? 'ro' : 'en']);
      expect(Object.values(result.core).every((s) => s === null || (s >= 0 && s <= 1))).toBe(true);
      expect(result.core[result.topLabel]).toBe(Math.max(...Object.values(result.core).map((s) => s ?? 0)));
    }
    const routedRight = (language: string) => {
      const ofLanguage = rows.filter((r) => r.language === language);
      const model = modelOf[language];
      return ofLanguage.filter((r) => bySegment.get(r.id)!.model.name === model).length / ofLanguage.length;
    };
    expect(routedRight('ro')).toBeGreaterThanOrEqual(0.97);
    expect(routedRight('en')).toBeGreaterThanOrEqual(0.97);
    expect(bySegment.get('en-0')!.fine).not.toBeNull();

    // Misspelt Romanian: corrected for the classifier, the original kept.
    for (let i = 0; i < misspelt.length; i++) {
      const result = bySegment.get(`ro-misspelt-${i}`)!;
      expect(result.originalText).toBe(misspelt[i]);
      expect(result.model.name).toBe('emotion-stream-ro');
      expect(result.text).toMatch(/[mM]așina/);
      expect(result.text).not.toMatch(/[mM]asina/);
    }
    const first = bySegment.get('ro-misspelt-0')!;
    expect(first.text).toBe('Mi-a furat cineva mașina și sunt foarte supărat');
    expect(first.topLabel).toBe('anger');
    expect(first.trace.map((t) => t.stage)).toEqual(['produce-csv', 'correct', 'translate', 'classify']);

    // The corrected topic carries the edits and the original text.
    const corrected = (
      await decodeAll<TextSegment>(stack, topics.segmentsCorrected, avroSchemas.TextSegment)
    ).find((s) => s.id === 'ro-misspelt-0')!;
    expect(corrected.text).toBe(MISSPELT_ROMANIAN[0]);
    expect(corrected.correction?.engine).toBe('hunspell');
    expect(corrected.correction?.edits).toContainEqual({
      offset: 18,
      original: 'masina',
      replacement: 'mașina',
    });
    expect(await readTopic(stack.kafka, `${topics.segmentsRaw}.dlq`)).toHaveLength(0);
  });

  it('two classify instances in one group split the partitions and produce each result once', async () => {
    const { stack, prefix, topics } = await pipelineStack('classify2');
    const registries = [await start(stack, startClassifyService), await start(stack, startClassifyService)];
    const producer = await SegmentProducer.connect({
      kafka: stack.kafka,
      registry: stack.registry,
      topic: topics.segmentsTranslated,
      logger: stack.logger,
    });
    const texts = [
      'I love this so much',
      'This makes me furious',
      'I am scared of the dark',
      'What a sad day',
    ];
    const ids = Array.from({ length: 600 }, (_, i) => `row-${i}`);
    await producer.send(
      ids.map((id, i) => ({ key: id, segment: { ...textSegment(id, texts[i % 4]!, i), language: 'en' } })),
    );
    await producer.close();

    await caughtUp(stack, prefix, 'classify', topics.segmentsTranslated);
    const results = await decodeAll<EmotionResult>(stack, topics.emotions, avroSchemas.EmotionResult);
    expect(results).toHaveLength(600);
    expect(new Set(results.map((r) => r.segmentId)).size).toBe(600);
    const perInstance = await Promise.all(registries.map((r) => counterValue(r, 'stage_records_in_total')));
    // Both instances did part of the work, and together all of it.
    expect(perInstance.every((n) => n > 0)).toBe(true);
    expect(perInstance[0]! + perInstance[1]!).toBe(600);
    expect(results.find((r) => r.segmentId === 'row-1')!.topLabel).toBe('anger');
  });

  it('the LLM corrector pauses the stage while its server is down and loses nothing when it comes back', async () => {
    const port = await freePort();
    const { stack, prefix, topics } = await pipelineStack('llm', {
      CORRECT_ENGINE: 'llm',
      CORRECT_LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      CORRECT_LLM_MODEL: 'llama-3.3-70b-instruct',
      CORRECT_LLM_MAX_RETRIES: '0',
      CORRECT_LLM_TIMEOUT_MS: '1000',
    });
    const metrics = await start(stack, startCorrectService);
    const producer = await SegmentProducer.connect({
      kafka: stack.kafka,
      registry: stack.registry,
      topic: topics.segmentsRaw,
      logger: stack.logger,
    });
    const ids = Array.from({ length: 30 }, (_, i) => `row-${i}`);
    await producer.send(
      ids.map((id, i) => ({
        key: id,
        segment: { ...textSegment(id, `masina numarul ${i}`, i), language: 'ro' },
      })),
    );
    await producer.close();

    // Down: nothing passes, the stage retries with backoff.
    const deadline = Date.now() + 30_000;
    while ((await counterValue(metrics, 'stage_retries_total')) < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await counterValue(metrics, 'stage_retries_total')).toBeGreaterThanOrEqual(2);
    expect(await readTopic(stack.kafka, topics.segmentsCorrected)).toHaveLength(0);

    // Back: everything passes, once.
    const llm = new HttpDouble((req, res) =>
      sendJson(
        res,
        200,
        chatCompletion(userMessage(req).replace('masina', 'mașina').replace('numarul', 'numărul')),
      ),
    );
    doubles.push(llm);
    await llm.listen(port);
    await caughtUp(stack, prefix, 'correct', topics.segmentsRaw);
    const corrected = await decodeAll<TextSegment>(stack, topics.segmentsCorrected, avroSchemas.TextSegment);
    expect(corrected).toHaveLength(30);
    expect(new Set(corrected.map((s) => s.id))).toEqual(new Set(ids));
    const row7 = corrected.find((s) => s.id === 'row-7')!;
    expect(row7.text).toBe('masina numarul 7');
    expect(row7.correction).toEqual({
      text: 'mașina numărul 7',
      engine: 'llm',
      edits: [{ offset: 0, original: 'masina numarul', replacement: 'mașina numărul' }],
    });
    expect(await readTopic(stack.kafka, `${topics.segmentsRaw}.dlq`)).toHaveLength(0);
  });
});
