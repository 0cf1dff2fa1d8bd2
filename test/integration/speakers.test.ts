import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TranscriptLine } from '../../gateway/transcripts/transcript-formats.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { audioChunkRecord } from '../support/audio.js';
import {
  type Conversation,
  conversation,
  conversationSentences,
  DISTINCT_VOICES,
  wavOf,
} from '../support/conversations.js';
import { diarizationErrorRate } from '../support/diarization.js';
import { gatewayEnv, LiveClient, startGateway, startTextStages } from '../support/gateway.js';
import { caughtUp, decodeAll, pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { StageProcess } from '../support/stage.js';
import { produceValues } from '../support/topics.js';

const services = new TestServices();
const processes: StageProcess[] = [];
afterEach(async () => {
  await services.stopAll();
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two espeak voices (a low male, a female) taking eight turns of one or two sentences. */
function twoSpeakers(seed: number): Conversation {
  return conversation(DISTINCT_VOICES.slice(0, 2), conversationSentences(), { turns: 8, seed });
}

describe('speaker turns', () => {
  it('labels a two-speaker upload S1 and S2 by turn: live feed, transcript, streams overview', {
    timeout: 300_000,
  }, async () => {
    const { stack, prefix, topics } = await pipelineStack('speakers', gatewayEnv());
    await startTextStages(services, stack, { audio: true });
    const { url } = await startGateway(services, stack);
    const talk = twoSpeakers(11);
    const live = LiveClient.connect(url, 'streams=interview');
    await live.opened;
    const form = new FormData();
    form.append('streamId', 'interview');
    form.append('language', 'en');
    form.append('file', new Blob([new Uint8Array(wavOf(talk.pcm))]), 'interview.wav');
    expect((await fetch(`${url}/v1/audio`, { method: 'POST', body: form })).status).toBe(202);
    // Every chunk produced and transcribed; then every segment's result committed.
    const deadline = Date.now() + 180_000;
    while (!live.events.some((e) => e.kind === 'ended') && Date.now() < deadline) await sleep(200);
    await caughtUp(stack, prefix, 'transcribe', topics.audioChunks);
    const said = (await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment)).length;
    await live.waitForResults(said, 120_000);
    const json = (await (await fetch(`${url}/v1/streams/interview/transcript?format=json`)).json()) as {
      segments: Array<Required<Pick<TranscriptLine, 'startMs' | 'endMs' | 'text' | 'speaker'>>>;
    };
    expect(new Set(json.segments.map((s) => s.speaker))).toEqual(new Set(['S1', 'S2']));
    // The turns are right: diarization error (0.25 s collar) within the two-speaker goal.
    const error = diarizationErrorRate(
      talk.turns,
      json.segments.map((s) => ({ speaker: s.speaker, startMs: s.startMs, endMs: s.endMs })),
    );
    expect(error.der).toBeLessThan(0.15);
    // The first voice heard is S1.
    expect(json.segments[0]!.speaker).toBe('S1');

    const srt = await (await fetch(`${url}/v1/streams/interview/transcript?format=srt`)).text();
    expect(srt).toMatch(/\n\[S1 \w+ \d\.\d\d\] /);
    expect(srt).toMatch(/\n\[S2 \w+ \d\.\d\d\] /);
    const csv = (await (await fetch(`${url}/v1/streams/interview/transcript?format=csv`)).text()).split(
      '\r\n',
    );
    expect(csv[0]!.startsWith('start_ms,end_ms,speaker,text,')).toBe(true);
    expect(csv[1]).toMatch(/^\d+,\d+,S1,/);

    // The live feed's results carry the speaker; the overview has each speaker's mix.
    const speakers = live.messages
      .filter((m) => m.type === 'result')
      .map((m) => (m.result as { speaker?: string }).speaker);
    expect(new Set(speakers)).toEqual(new Set(['S1', 'S2']));
    const overview = (await (await fetch(`${url}/v1/streams`)).json()) as {
      streams: Array<{ streamId: string; speakers: Array<{ speaker: string; results: number }> }>;
    };
    const tile = overview.streams.find((s) => s.streamId === 'interview')!;
    expect(tile.speakers.map((s) => s.speaker)).toEqual(['S1', 'S2']);
    expect(tile.speakers.reduce((sum, s) => sum + s.results, 0)).toBe(json.segments.length);
    live.close();
  });

  it('keeps every label when the worker is killed mid-stream and the stage is SIGKILLed and restarted', {
    timeout: 300_000,
  }, async () => {
    const { stack, overrides, topics } = await pipelineStack('speakers-kill', {
      LOG_LEVEL: 'info',
      STAGE_MAX_BATCH_RECORDS: '2',
    });
    const transcribe = new StageProcess(
      stackEnv(overrides),
      join(mkdtempSync(join(tmpdir(), 'speakers-kill-')), 'transcribe.log'),
      ['cli/run.ts', 'stage', 'transcribe'],
    );
    transcribe.start();
    processes.push(transcribe);
    await transcribe.serving;
    // One chunk per turn, as the producer cuts at the pauses between them.
    const talk = twoSpeakers(23);
    const chunks = talk.turns.map((turn, seq) => ({
      key: 'call',
      value: audioChunkRecord(seq, talk.pcm.subarray(turn.startMs * 32, turn.endMs * 32), {
        streamId: 'call',
        startMs: turn.startMs,
        final: seq === talk.turns.length - 1,
      }).value,
    }));
    const segments = async () =>
      (await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment)).filter(
        (s) => s.streamId === 'call',
      );
    const until = async (count: number) => {
      const deadline = Date.now() + 120_000;
      while ((await segments()).length < count && Date.now() < deadline) await sleep(500);
    };
    const send = (from: number, to: number) =>
      produceValues(
        stack.kafka,
        stack.registry,
        topics.audioChunks,
        avroSchemas.AudioChunk,
        chunks.slice(from, to),
      );

    await send(0, 3);
    await until(3);
    // The worker (the stage's Python child) is killed while the next chunks are transcribed:
    // their batch fails, a new worker starts, the batch is retried.
    await send(3, 5);
    await sleep(300);
    const workers = execFileSync('pgrep', ['-P', String(transcribe.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(workers.length).toBeGreaterThan(0);
    for (const pid of workers) process.kill(Number(pid), 'SIGKILL');
    await until(5);
    // Then the whole stage dies; its successor restores the stream's speakers from the changelog
    // before its first batch, whose first chunk is the second voice (S2 so far: a fresh state
    // would call it S1).
    const restartAt = talk.turns.findIndex((turn, i) => i >= 5 && turn.speaker === talk.turns[1]!.speaker);
    expect(restartAt).toBeGreaterThan(0);
    await send(5, restartAt);
    await until(restartAt);
    await transcribe.kill('SIGKILL');
    transcribe.start();
    await send(restartAt, chunks.length);
    await until(chunks.length);

    const heard = await segments();
    // Each chunk exactly once (one voice a chunk: never split), each voice one label throughout.
    expect(heard.map((s) => s.id).sort()).toEqual(chunks.map((c) => `call:${c.value.seq}`).sort());
    const labelOf = new Map<string, string>();
    for (const segment of heard) {
      const voice = talk.turns[segment.seq]!.speaker;
      expect(labelOf.get(voice) ?? segment.speaker).toBe(segment.speaker);
      labelOf.set(voice, segment.speaker!);
    }
    expect(new Set(labelOf.values())).toEqual(new Set(['S1', 'S2']));
    expect(labelOf.get(talk.turns[0]!.speaker)).toBe('S1');
  });
});
