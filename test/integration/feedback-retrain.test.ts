import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { ModelRegistry, RegistryRefusal } from '../../processors/classify/model-registry.js';
import { createEmotionEngine, resolveRegistryModels } from '../../processors/classify/pipeline.js';
import { avroSchemas, type CoreEmotion, type EmotionResult } from '../../schemas/index.js';
import type { FeedbackRecord } from '../../sinks/feedback/feedback-records.js';
import { startFeedbackSinkService } from '../../sinks/feedback/service.js';
import { latestTrainingSet, type TrainingSetManifest } from '../../sinks/feedback/training-set.js';
import { emotionResult, readJsonLines, testBlobStore, uniqueContainer } from '../support/blob.js';
import { gatewayEnv, startGateway, startTextStages } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { produceValues } from '../support/topics.js';

const run = promisify(execFile);
const services = new TestServices();
afterEach(() => services.stopAll());

const ROMANIAN: Array<[string, CoreEmotion]> = [
  ['Sunt atât de fericit că ați venit cu toții!', 'joy'],
  ['Mi-e frică să merg singur acasă noaptea.', 'fear'],
  ['Sunt furios pe cum ne-au tratat azi.', 'anger'],
  ['Mi-e tare dor de bunica, sunt trist.', 'sadness'],
  ['Trenul pleacă la ora opt.', 'neutral'],
  ['Ce zi minunată, mă bucur enorm!', 'joy'],
];

describe('feedback sink, feedback dataset and retraining', () => {
  it('joins feedback posted through the gateway with its result, consolidates it, and retrains and registers a model on it', async () => {
    const container = uniqueContainer('feedback');
    const { stack, overrides, topics } = await pipelineStack('feedback', {
      BLOB_CONTAINER: container,
      SINK_FLUSH_INTERVAL_MS: '300',
      FEEDBACK_DATASET_INTERVAL_MS: '500',
      FEEDBACK_JOIN_WAIT_MS: '2000',
      ...gatewayEnv(),
    });
    const store = await testBlobStore(stack.config);
    const results: EmotionResult[] = Array.from({ length: 12 }, (_, i) => {
      const [text, label] = ROMANIAN[i % ROMANIAN.length]!;
      return { ...emotionResult(`ro-${i}`, 'ro-stream', i, label), text, originalText: text, language: 'ro' };
    });
    await produceValues(
      stack.kafka,
      stack.registry,
      topics.emotions,
      avroSchemas.EmotionResult,
      results.map((value) => ({ key: value.streamId, value })),
    );
    await services.start(stack, startFeedbackSinkService);
    const { url } = await startGateway(services, stack);

    // 8 confirmed, 3 corrected (one with a fine-grained label), 1 wrong without a label, 1 unknown result.
    const verdicts: Array<{ resultId: string; verdict: 'correct' | 'wrong'; label?: string }> = [
      ...results.slice(0, 8).map((r) => ({ resultId: r.id, verdict: 'correct' as const })),
      { resultId: results[8]!.id, verdict: 'wrong', label: 'surprise' },
      { resultId: results[9]!.id, verdict: 'wrong', label: 'grief' },
      { resultId: results[10]!.id, verdict: 'wrong', label: 'anger' },
      { resultId: results[11]!.id, verdict: 'wrong' },
      { resultId: 'no-such-result@m:1', verdict: 'correct' },
    ];
    for (const body of verdicts) {
      const response = await fetch(`${url}/v1/feedback`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
      // What is known at once: the gateway never saw these results, so the join is still to come.
      expect(await response.json()).toMatchObject({ resultId: body.resultId, matched: 'pending' });
      expect(response.headers.get('location')).toMatch(/^\/v1\/feedback\/[0-9a-f-]{36}$/);
    }

    let manifest: TrainingSetManifest | undefined;
    const deadline = Date.now() + 60_000;
    while ((manifest?.results ?? 0) < verdicts.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      manifest = await latestTrainingSet(store, topics.feedback);
    }
    expect(manifest?.results).toBe(verdicts.length);

    const daily = await readJsonLines<FeedbackRecord>(store, `${topics.feedback}/daily/`);
    expect(daily).toHaveLength(verdicts.length);
    expect(daily.every(({ blob }) => /\/daily\/dt=\d{4}-\d{2}-\d{2}\/part-/.test(blob))).toBe(true);
    const byResult = new Map(daily.map(({ value }) => [value.resultId, value]));
    expect(byResult.get(results[0]!.id)).toMatchObject({
      verdict: 'correct',
      trainingLabel: results[0]!.topLabel,
      result: { text: results[0]!.text, language: 'ro', model: results[0]!.model },
    });
    expect(byResult.get(results[9]!.id)).toMatchObject({ label: 'grief', trainingLabel: 'sadness' });
    expect(byResult.get(results[11]!.id)).toMatchObject({
      trainingLabel: null,
      unusable: 'wrong, without the right label',
    });
    expect(byResult.get('no-such-result@m:1')).toMatchObject({
      result: null,
      unusable: 'result not found within the join window',
    });

    // The consolidated training file: text,label, one row per usable verdict.
    expect(manifest!.languages.ro?.rows).toBe(11);
    const csv = (await store.getText(manifest!.languages.ro!.file))!;
    expect(csv.split('\n')[0]).toBe('text,label');
    expect(csv).toContain(`"${results[10]!.text}",anger`);
    expect(manifest!.unusable).toEqual({
      'wrong, without the right label': 1,
      'result not found within the join window': 1,
    });

    // Retraining on it: the CLI a CronJob runs.
    const env = { ...process.env, ...stackEnv(overrides), LOG_LEVEL: 'warn' };
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/run.ts', 'retrain', '--lang', 'ro'],
      {
        env,
        timeout: 300_000,
      },
    );
    process.stdout.write(stdout);
    expect(stdout).toContain('registered, now current');
    const registry = new ModelRegistry(store);
    const index = await registry.index('emotion-stream-ro');
    expect(index.versions).toHaveLength(1);
    const version = index.current!;
    expect(version).toMatch(/^r\d{14}\+[0-9a-f]{12}$/);
    const metrics = await store.getJson<{ test: { core: { macroF1: number; n: number } } }>(
      `models/emotion-stream-ro/${version}/metrics.json`,
    );
    expect(metrics!.test.core.n).toBe(405);
    expect(metrics!.test.core.macroF1).toBeGreaterThan(0.5);
    const lineage = await store.getJson<{ feedback: { version: string; used: number; dropped: number } }>(
      `models/emotion-stream-ro/${version}/lineage.json`,
    );
    // 'surprise' is not a RED class: that row cannot teach the Romanian model.
    expect(lineage!.feedback).toMatchObject({ version: manifest!.version, used: 10, dropped: 1 });

    // The classify engine serves the registered version.
    const config = loadConfig({ ...env, CLASSIFY_MODELS: 'en=en,ro=registry:emotion-stream-ro' });
    const engine = await createEmotionEngine(await resolveRegistryModels(config, stack.logger), stack.logger);
    try {
      const [scores] = await engine.run(['Sunt atât de fericit azi!'], { lang: 'ro' });
      expect(scores!.model.version).toBe(version);
    } finally {
      await engine.close();
    }

    // A version that scores lower is refused unless forced.
    const worse = mkdtempSync(join(tmpdir(), 'worse-model-'));
    cpSync(
      await registry.fetch({ name: 'emotion-stream-ro', version }, mkdtempSync(join(tmpdir(), 'cache-'))),
      worse,
      {
        recursive: true,
      },
    );
    const labels = JSON.parse(readFileSync(join(worse, 'labels.json'), 'utf8'));
    writeFileSync(join(worse, 'labels.json'), JSON.stringify({ ...labels, modelVersion: 'worse-1' }));
    const worseMetrics = JSON.parse(readFileSync(join(worse, 'metrics.json'), 'utf8'));
    worseMetrics.test.core.macroF1 -= 0.1;
    writeFileSync(join(worse, 'metrics.json'), JSON.stringify(worseMetrics));
    await expect(registry.register(worse, {})).rejects.toThrow(RegistryRefusal);
    expect((await registry.index('emotion-stream-ro')).current).toBe(version);
    await registry.register(worse, {}, { force: true });
    const forced = await registry.index('emotion-stream-ro');
    expect(forced.current).toBe('worse-1');
    expect(forced.versions.at(-1)).toMatchObject({ version: 'worse-1', forced: true });
  });

  it('takes a reviewed results file: one verdict per row, refused rows with their line and why, and each outcome later', async () => {
    const container = uniqueContainer('feedback-csv');
    const { stack } = await pipelineStack('feedback-csv', {
      BLOB_CONTAINER: container,
      SINK_FLUSH_INTERVAL_MS: '300',
      FEEDBACK_JOIN_WAIT_MS: '1500',
      ...gatewayEnv(),
    });
    await testBlobStore(stack.config);
    await startTextStages(services, stack);
    await services.start(stack, startFeedbackSinkService);
    const { url } = await startGateway(services, stack);

    // A CSV job, as a user runs it, then its results file.
    const texts = [
      'I am so happy you came!',
      'This is outrageous, I want my money back.',
      'My dog died this morning.',
      'The train leaves at eight.',
      'What a lovely surprise!',
      '',
    ];
    const upload = new FormData();
    upload.append(
      'file',
      new Blob([`id,text\n${texts.map((t, i) => `c${i},"${t}"`).join('\n')}\n`]),
      'reviews.csv',
    );
    const job = (await (await fetch(`${url}/v1/jobs/csv`, { method: 'POST', body: upload })).json()) as {
      jobId: string;
    };
    let state = '';
    for (const deadline = Date.now() + 120_000; state !== 'done' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      state = ((await (await fetch(`${url}/v1/jobs/${job.jobId}`)).json()) as { state: string }).state;
    }
    expect(state).toBe('done');
    const results = parse(await (await fetch(`${url}/v1/jobs/${job.jobId}/results.csv`)).text(), {
      columns: true,
    }) as Array<Record<string, string>>;
    expect(results.map((r) => r.id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);

    // A person reviews it: confirms, says wrong, names labels (one misspelt), keeps the skipped row,
    // and adds a row for a result that does not exist.
    const review = ['', 'wrong', 'grief', 'happyy', results[4]!.top_label!, ''];
    const lines = results.map((r, i) =>
      [r.id, `"${r.text}"`, r.result_id, r.top_label, r.skipped, review[i]].join(','),
    );
    lines.push('x,"made up",no-such-result@m:1,joy,,');
    const reviewed = new FormData();
    reviewed.append(
      'file',
      new Blob([`id,text,result_id,top_label,skipped,correct_label\n${lines.join('\n')}\n`]),
      'reviewed.csv',
    );
    const response = await fetch(`${url}/v1/feedback/csv`, { method: 'POST', body: reviewed });
    const report = (await response.json()) as {
      accepted: number;
      refused: number;
      refusedRows: Array<{ line: number; reason: string }>;
      feedback: Array<{
        line: number;
        id: string;
        resultId: string;
        verdict: string;
        label: string | null;
        matched: string;
      }>;
    };
    expect(response.status).toBe(202);
    expect(report).toMatchObject({ accepted: 5, refused: 2 });
    expect(report.refusedRows).toEqual([
      {
        line: 5,
        reason:
          "unknown label 'happyy' in correct_label: expected a core or GoEmotions label, 'wrong', or blank to confirm",
      },
      { line: 7, reason: 'the row was never scored (skipped: empty text)' },
    ]);
    expect(report.feedback.map(({ line, verdict, label }) => [line, verdict, label])).toEqual([
      [2, 'correct', null],
      [3, 'wrong', null],
      [4, 'wrong', 'grief'],
      [6, 'correct', null],
      [8, 'correct', null],
    ]);
    // Said at once: results the gateway saw are matched; the made-up one is pending, not a success.
    expect(report.feedback.slice(0, 4).every((f) => f.matched === 'matched')).toBe(true);
    expect(report.feedback[4]!.matched).toBe('pending');

    // Later, each outcome as the feedback sink recorded it.
    const outcome = async (id: string) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        const body = (await (await fetch(`${url}/v1/feedback/${id}`)).json()) as Record<string, unknown>;
        if (body.recorded) return body;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      throw new Error(`feedback ${id} never recorded`);
    };
    expect(await outcome(report.feedback[2]!.id)).toMatchObject({
      matched: 'matched',
      trainingLabel: 'sadness',
      reason: null,
    });
    expect(await outcome(report.feedback[1]!.id)).toMatchObject({
      matched: 'matched',
      trainingLabel: null,
      reason: 'wrong, without the right label',
    });
    expect(await outcome(report.feedback[4]!.id)).toMatchObject({
      matched: 'unmatched',
      resultId: 'no-such-result@m:1',
      reason: 'result not found within the join window',
    });
    const unknown = await fetch(`${url}/v1/feedback/${randomUUID()}`);
    expect(unknown.status).toBe(404);

    // A file that is no reviewed results file is refused whole, with what it lacks.
    const wrongFile = new FormData();
    wrongFile.append('file', new Blob(['text,label\nhi,joy\n']), 'labels.csv');
    const refused = await fetch(`${url}/v1/feedback/csv`, { method: 'POST', body: wrongFile });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /no 'result_id' or 'correct_label' column/,
    );
  });
});
