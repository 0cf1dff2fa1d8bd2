import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AudioChunk, avroSchemas, type EmotionResult, type TextSegment } from '../../schemas/index.js';
import { LIBRIVOX_DIR } from '../support/audio.js';
import { readJsonLines, testBlobStore, uniqueContainer } from '../support/blob.js';
import { decodeAll, pipelineStack } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { StageProcess } from '../support/stage.js';
import { produceSegments, produceValues, textSegment } from '../support/topics.js';
import { reportChaos, tally } from './chaos-report.js';

const LIBRIVOX_FILES = ['0870', '0880', '0890', '0920', '0930'].map(
  (n) => `sense_and_sensibility_01_austen_64kb-${n}.wav`,
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: StageProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

const TEXTS = [
  'I love this so much, best day ever!',
  'This is outrageous, I am furious with them',
  'I am scared of what comes next',
  'What a surprise, I did not expect that',
  'That is disgusting, I feel sick',
  'I miss her so much, I feel so alone',
  'The meeting is at three in the afternoon',
];

/** Polls until `count` ids are present or the time is up; returns the ids seen (with repeats). */
async function collect(read: () => Promise<string[]>, count: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ids = await read();
  while (new Set(ids).size < count && Date.now() < deadline) {
    await sleep(2000);
    ids = await read();
  }
  return ids;
}

describe('chaos: SIGKILL every stage and the blob sink', () => {
  it('keeps every one of 20,000 results exactly once, in Kafka and in Blob, while each process is killed at random 10 times', {
    timeout: 600_000,
  }, async () => {
    const { stack, overrides, topics } = await pipelineStack('chaos-kills', {
      BLOB_CONTAINER: uniqueContainer('chaos-kills'),
      SINK_FLUSH_INTERVAL_MS: '500',
      STAGE_MAX_BATCH_RECORDS: '200',
      LOG_LEVEL: 'info',
    });
    const logDir = mkdtempSync(join(tmpdir(), 'chaos-kills-'));
    const env = stackEnv(overrides);
    const services = [
      ['correct', ['stage', 'correct']],
      ['translate', ['stage', 'translate']],
      ['classify', ['stage', 'classify']],
      ['blob-sink', ['sink', 'blob']],
    ] as const;
    const running = services.map(([name, args]) => {
      const service = new StageProcess(env, join(logDir, `${name}.log`), ['cli/run.ts', ...args]);
      service.start();
      processes.push(service);
      return { name, service, kills: 0, startedAt: Date.now() };
    });

    // 20,000 rows arrive over about 40 s, 500 at a time, while the kills go on.
    const total = 20_000;
    const ids = Array.from({ length: total }, (_, i) => `row-${i}`);
    const producing = (async () => {
      for (let start = 0; start < total; start += 500) {
        const rows = ids
          .slice(start, start + 500)
          .map((id, k) => textSegment(id, TEXTS[(start + k) % TEXTS.length]!));
        await produceSegments(stack, topics.segmentsRaw, rows);
        await sleep(1000);
      }
    })();

    // A kill every 0.8-1.6 s, at a random process among those killed least that have run 2 s since
    // their last start; each is started again at once, as a supervisor would.
    await sleep(3000);
    let lastKillAt = Date.now();
    while (running.some((entry) => entry.kills < 10)) {
      await sleep(800 + Math.random() * 800);
      const fewest = Math.min(...running.map((entry) => entry.kills));
      const candidates = running.filter(
        (entry) => entry.kills <= fewest + 1 && entry.kills < 10 && Date.now() - entry.startedAt > 2000,
      );
      if (candidates.length === 0) continue;
      const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
      await victim.service.kill('SIGKILL');
      victim.kills += 1;
      victim.service.start();
      victim.startedAt = Date.now();
      lastKillAt = Date.now();
    }
    await producing;

    const inKafka = await collect(
      async () =>
        (await decodeAll<EmotionResult>(stack, topics.emotions, avroSchemas.EmotionResult)).map(
          (result) => result.segmentId,
        ),
      total,
      240_000,
    );
    const kafkaDoneAt = Date.now();
    const store = await testBlobStore(stack.config);
    const inBlob = await collect(
      async () =>
        (await readJsonLines<EmotionResult>(store, `${topics.emotions}/`)).map(
          (line) => line.value.segmentId,
        ),
      total,
      120_000,
    );
    const kafka = tally(ids, inKafka);
    const blob = tally(ids, inBlob);
    const kills = running.map((entry) => `${entry.name} ${entry.kills}`).join(', ');
    reportChaos({
      scenario: 'SIGKILL stages, results in Kafka',
      faults: kills,
      records: total,
      ...kafka,
      recoveryMs: kafkaDoneAt - lastKillAt,
    });
    reportChaos({
      scenario: 'SIGKILL stages, files in Blob',
      faults: kills,
      records: total,
      ...blob,
      recoveryMs: Date.now() - lastKillAt,
    });
    expect(running.every((entry) => entry.kills >= 10)).toBe(true);
    expect(kafka).toEqual({ lost: 0, duplicated: 0 });
    expect(blob).toEqual({ lost: 0, duplicated: 0 });
  });

  it('transcribes every one of 60 speech chunks exactly once while transcribe is killed at random 10 times', {
    timeout: 600_000,
  }, async () => {
    const { stack, overrides, topics } = await pipelineStack('chaos-asr', {
      LOG_LEVEL: 'info',
      // Small transactions: a kill throws away at most five chunks of decoding.
      STAGE_MAX_BATCH_RECORDS: '5',
    });
    const env = stackEnv(overrides);
    const transcribe = new StageProcess(
      env,
      join(mkdtempSync(join(tmpdir(), 'chaos-asr-')), 'transcribe.log'),
      ['cli/run.ts', 'stage', 'transcribe'],
    );
    transcribe.start();
    processes.push(transcribe);

    // Human speech (LibriVox) in 2 s pieces: each has words, so each must give one segment.
    const pieces = LIBRIVOX_FILES.flatMap((file) => {
      const pcm = readFileSync(join(LIBRIVOX_DIR, file)).subarray(44);
      return Array.from({ length: Math.floor(pcm.length / 64_000) }, (_, k) =>
        pcm.subarray(k * 64_000, (k + 1) * 64_000),
      );
    });
    const chunks: Array<{ key: string; value: AudioChunk }> = [];
    for (let pass = 0; chunks.length < 60; pass++) {
      pieces.forEach((pcm, seq) => {
        if (chunks.length >= 60) return;
        const streamId = `talk-${pass}`;
        chunks.push({
          key: streamId,
          value: {
            streamId,
            seq,
            startMs: seq * 2000,
            durationMs: 2000,
            sampleRate: 16_000,
            encoding: 'PCM_S16LE',
            pcm,
            final: seq === pieces.length - 1,
            languageHint: 'en',
            source: null,
            trace: [{ stage: 'produce-audio', atMs: Date.now() }],
          },
        });
      });
    }
    const expected = chunks.map(({ value }) => `${value.streamId}:${value.seq}`);
    // Ten chunks (640 kB) a send: under Kafka's 1 MB limit per request.
    for (let start = 0; start < chunks.length; start += 10) {
      await produceValues(
        stack.kafka,
        stack.registry,
        topics.audioChunks,
        avroSchemas.AudioChunk,
        chunks.slice(start, start + 10),
      );
    }

    let kills = 0;
    let lastKillAt = Date.now();
    while (kills < 10) {
      // At a random moment 2-4 s after the last start.
      await sleep(2000 + Math.random() * 2000);
      await transcribe.kill('SIGKILL');
      kills += 1;
      transcribe.start();
      lastKillAt = Date.now();
    }
    const seen = await collect(
      async () =>
        (await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment)).map(
          (segment) => segment.id,
        ),
      expected.length,
      240_000,
    );
    const figures = tally(expected, seen);
    reportChaos({
      scenario: 'SIGKILL transcribe, segments in Kafka',
      faults: `transcribe ${kills}`,
      records: expected.length,
      ...figures,
      recoveryMs: Date.now() - lastKillAt,
    });
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
  });

  it('writes every one of 6,000 rows exactly once to all three topics while the fused text-pipeline stage is killed at random 8 times', {
    timeout: 600_000,
  }, async () => {
    // The opt-in fused mode (issue 22): correct → translate → classify in one process and one
    // transaction per batch, still writing the intermediate topics.
    const { stack, overrides, topics } = await pipelineStack('chaos-fused', {
      STAGE_MAX_BATCH_RECORDS: '200',
      LOG_LEVEL: 'info',
    });
    const fused = new StageProcess(
      stackEnv(overrides),
      join(mkdtempSync(join(tmpdir(), 'chaos-fused-')), 'text-pipeline.log'),
      ['cli/run.ts', 'stage', 'text-pipeline'],
    );
    fused.start();
    processes.push(fused);

    const total = 6000;
    const ids = Array.from({ length: total }, (_, i) => `fused-${i}`);
    const producing = (async () => {
      for (let start = 0; start < total; start += 300) {
        const rows = ids
          .slice(start, start + 300)
          .map((id, k) => textSegment(id, TEXTS[(start + k) % TEXTS.length]!));
        await produceSegments(stack, topics.segmentsRaw, rows);
        await sleep(700);
      }
    })();
    let kills = 0;
    let lastKillAt = Date.now();
    await sleep(3000);
    while (kills < 8) {
      await sleep(1500 + Math.random() * 1500);
      await fused.kill('SIGKILL');
      kills += 1;
      fused.start();
      lastKillAt = Date.now();
    }
    await producing;

    const results = await collect(
      async () =>
        (await decodeAll<EmotionResult>(stack, topics.emotions, avroSchemas.EmotionResult)).map(
          (r) => r.segmentId,
        ),
      total,
      240_000,
    );
    const figures = {
      emotions: tally(ids, results),
      corrected: tally(
        ids,
        (await decodeAll<TextSegment>(stack, topics.segmentsCorrected, avroSchemas.TextSegment)).map(
          (s) => s.id,
        ),
      ),
      translated: tally(
        ids,
        (await decodeAll<TextSegment>(stack, topics.segmentsTranslated, avroSchemas.TextSegment)).map(
          (s) => s.id,
        ),
      ),
    };
    for (const [topic, tallied] of Object.entries(figures)) {
      reportChaos({
        scenario: `SIGKILL the fused text-pipeline stage, ${topic} in Kafka`,
        faults: `text-pipeline ${kills}`,
        records: total,
        ...tallied,
        recoveryMs: Date.now() - lastKillAt,
      });
    }
    expect(figures).toEqual({
      emotions: { lost: 0, duplicated: 0 },
      corrected: { lost: 0, duplicated: 0 },
      translated: { lost: 0, duplicated: 0 },
    });
  });
});
