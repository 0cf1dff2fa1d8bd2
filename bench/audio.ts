/**
 * The audio path. Part 1: the real-time factor of the transcribe engine (processing time / audio
 * time) on the LibriVox recordings of pocketsphinx-testdata, cut into chunks as the producer cuts
 * them. Part 2: a live stream — ffmpeg plays espeak-ng speech in real time over HTTP — ingested by
 * the gateway and carried through transcribe, correct, translate and classify (each its own
 * process) to the WebSocket; for each result, the lag from the end of its audio to its arrival.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createPipelineTopics } from '../cli/provision.js';
import { pipelineStageSpecs, ServiceSupervisor } from '../cli/service-supervisor.js';
import { createTranscriptionEngine } from '../processors/transcribe/pipeline.js';
import { AudioChunker } from '../producers/audio/audio-chunker.js';
import { decodeToPcm } from '../producers/audio/ffmpeg-decoder.js';
import { loadConfig } from '../runtime/config/index.js';
import { createLogger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { LocalStack } from '../runtime/stack/local-stack.js';
import { freePort } from '../runtime/stack/ports.js';
import { LIBRIVOX_DIR, liveBroadcastArgs, speak } from '../test/support/audio.js';
import { format, numberOption, printTable, profilingArgs } from './table.js';

const SAMPLE_RATE = 16_000;

async function pcmOf(file: string): Promise<Buffer> {
  const decoder = decodeToPcm(file, { sampleRate: SAMPLE_RATE, realtime: false });
  const parts: Buffer[] = [];
  for await (const part of decoder.pcm) parts.push(part as Buffer);
  await decoder.finished;
  return Buffer.concat(parts);
}

/** Part 1: seconds of processing per second of audio, chunk by chunk as the stage sees them. */
async function realTimeFactor(logger: ReturnType<typeof createLogger>) {
  const config = loadConfig();
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  const files = existsSync(LIBRIVOX_DIR) ? readdirSync(LIBRIVOX_DIR).filter((f) => f.endsWith('.wav')) : [];
  if (files.length === 0) throw new Error(`no recordings in ${LIBRIVOX_DIR}: install pocketsphinx-testdata`);
  let audioMs = 0;
  let busyMs = 0;
  let chunks = 0;
  const perChunk: number[] = [];
  try {
    for (const file of files) {
      const pcm = await pcmOf(join(LIBRIVOX_DIR, file));
      const chunker = new AudioChunker(SAMPLE_RATE, config.audio.chunkMs);
      for (const chunk of [...chunker.push(pcm), chunker.end()]) {
        if (chunk.durationMs === 0) continue;
        const started = performance.now();
        await engine.transcribe(chunk.pcm, SAMPLE_RATE, 'en');
        const took = performance.now() - started;
        busyMs += took;
        perChunk.push(took);
        audioMs += chunk.durationMs;
        chunks += 1;
      }
    }
  } finally {
    await engine.close();
  }
  perChunk.sort((a, b) => a - b);
  return {
    files: files.length,
    chunks,
    audioSeconds: audioMs / 1000,
    rtf: busyMs / audioMs,
    chunkP50Ms: perChunk[Math.floor(perChunk.length / 2)]!,
    chunkMaxMs: perChunk.at(-1)!,
  };
}

interface LiveResult {
  endMs: number | null;
  trace: Array<{ stage: string; atMs: number }>;
}

/** Part 2: lag from the end of each spoken segment to its result on the WebSocket. */
async function liveLag(logger: ReturnType<typeof createLogger>, repeats: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-audio-'));
  const stack = await LocalStack.start({ config: loadConfig(), dataDir, logger });
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const gatewayPort = await freePort(18_080);
  const env = {
    ...process.env,
    ...stack.env(),
    TOPIC_PREFIX: prefix,
    GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
  };
  const supervisor = new ServiceSupervisor({
    services: [
      ...pipelineStageSpecs(19_564),
      { name: 'gateway', args: ['gateway'], portVariable: 'GATEWAY_PORT', preferredPort: gatewayPort },
    ],
    env: { ...env, LOG_LEVEL: 'warn', GATEWAY_HOST: '127.0.0.1' },
    logDir: join(dataDir, 'logs'),
    logger,
    cliScript: join(packageRoot(), 'cli', 'run.ts'),
    nodeArgs: profilingArgs(),
  });
  let broadcaster: ChildProcess | undefined;
  try {
    await createPipelineTopics(loadConfig(env), logger);
    const services = await supervisor.start();
    const url = `http://127.0.0.1:${services.find((s) => s.name === 'gateway')!.port}`;
    const wav = join(dataDir, 'broadcast.wav');
    const sentences = Array.from({ length: repeats }, () => [
      'I feel so sad and alone',
      'what a wonderful surprise',
    ]).flat();
    await speak(sentences, wav, 1.5);
    const port = await freePort(0);
    broadcaster = spawn('ffmpeg', liveBroadcastArgs(wav, port));
    const playing = new Promise<void>((resolve) => broadcaster!.once('exit', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/live?streams=broadcast`);
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    // Stream time 0 is when the gateway received the first audio (the `started` stream event).
    let zeroMs: number | undefined;
    const arrivals: Array<{ arrivedAt: number; result: LiveResult }> = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        type: string;
        result?: LiveResult;
        event?: { kind: string; atMs: number };
      };
      if (message.type === 'stream' && message.event?.kind === 'started') zeroMs = message.event.atMs;
      if (message.type === 'result' && message.result && message.result.endMs !== null) {
        arrivals.push({ arrivedAt: Date.now(), result: message.result });
      }
    });
    const response = await fetch(`${url}/v1/streams`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        url: `http://127.0.0.1:${port}/live.mp3`,
        streamId: 'broadcast',
        language: 'en',
      }),
    });
    if (response.status !== 202)
      throw new Error(`POST /v1/streams answered ${response.status}: ${await response.text()}`);
    await playing;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    ws.close();
    if (zeroMs === undefined) throw new Error('no started event for the stream');
    const lags: number[] = [];
    const beforeProduce: number[] = [];
    const hops = new Map<string, number[]>();
    for (const { arrivedAt, result } of arrivals) {
      const spokenEnd = zeroMs + result.endMs!;
      lags.push(arrivedAt - spokenEnd);
      // The part of the lag that passes before the chunk is produced (decoding, chunking).
      beforeProduce.push(result.trace[0]!.atMs - spokenEnd);
      result.trace.slice(1).forEach((stamp, i) => {
        const hop = `${result.trace[i]!.stage}→${stamp.stage}`;
        hops.set(hop, [...(hops.get(hop) ?? []), stamp.atMs - result.trace[i]!.atMs]);
      });
    }
    const sorted = [...lags].sort((a, b) => a - b);
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    return {
      results: lags.length,
      lagP50Ms: median(lags),
      lagP90Ms: sorted[Math.floor(sorted.length * 0.9)] ?? Number.NaN,
      lagMaxMs: sorted.at(-1) ?? Number.NaN,
      beforeProduceP50Ms: median(beforeProduce),
      hops: Object.fromEntries([...hops].map(([hop, values]) => [hop, median(values)])),
    };
  } finally {
    broadcaster?.kill('SIGKILL');
    await supervisor.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function main(json: boolean): Promise<void> {
  const repeats = numberOption('repeats', 5);
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const rtf = await realTimeFactor(logger);
  const live = await liveLag(logger, repeats);
  printTable('audio: transcribe real-time factor (pocketsphinx, LibriVox) and live lag to the WebSocket', [
    ['recordings / chunks / audio (s)', `${rtf.files} / ${rtf.chunks} / ${format(rtf.audioSeconds, 1)}`],
    ['real-time factor (processing / audio)', format(rtf.rtf, 3)],
    ['per chunk p50 / max (ms)', `${format(rtf.chunkP50Ms, 0)} / ${format(rtf.chunkMaxMs, 0)}`],
    ['live: results while playing', String(live.results)],
    [
      'live: lag end of speech → WebSocket p50 / p90 / max (ms)',
      `${format(live.lagP50Ms, 0)} / ${format(live.lagP90Ms, 0)} / ${format(live.lagMaxMs, 0)}`,
    ],
    ['live: end of speech → chunk produced, median (ms)', format(live.beforeProduceP50Ms, 0)],
    [
      'live: per hop, median (ms)',
      Object.entries(live.hops)
        .map(([hop, ms]) => `${hop} ${ms}`)
        .join(', '),
    ],
  ]);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ rtf: rtf.rtf, audio_seconds: rtf.audioSeconds, chunk_p50_ms: rtf.chunkP50Ms, live_results: live.results, p50_ms: live.lagP50Ms, p90_ms: live.lagP90Ms, max_ms: live.lagMaxMs, before_produce_ms: live.beforeProduceP50Ms, hops_ms: live.hops })}\n`,
    );
  }
}
