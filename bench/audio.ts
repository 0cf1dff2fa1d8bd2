/**
 * The audio path, per transcription engine (faster-whisper tiny.en, the default; pocketsphinx, the
 * fallback):
 * 1. word error rate and real-time factor (engine time / audio time) on the LibriVox recordings of
 *    pocketsphinx-testdata and on espeak-ng emotional sentences, cut by the producers' chunker;
 *    the faster-whisper worker's peak memory;
 * 2. the chunkers on the same audio (speech with noise and music between): silero VAD against the
 *    energy chunker: chunks, audio sent to the engine, words heard in the noise, WER;
 * 3. the emotional sentences end to end (upload → WebSocket, every stage its own process): how many
 *    get their intended emotion with each engine, against the classifier on the written text;
 * 4. a live stream (ffmpeg plays espeak-ng speech in real time over HTTP) with each chunker: the lag
 *    from the end of each spoken segment to its result on the WebSocket, and where it goes per hop.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../cli/config.js';
import { createPipelineTopics } from '../cli/provision.js';
import { pipelineStageSpecs, ServiceSupervisor } from '../cli/service-supervisor.js';
import { createEmotionEngine, resolveRegistryModels } from '../processors/classify/pipeline.js';
import { type TranscriptionEngine, transcribeOne } from '../processors/transcribe/engine.js';
import { FasterWhisperEngine } from '../processors/transcribe/faster-whisper-engine.js';
import { ModelPerLanguageEngine } from '../processors/transcribe/model-per-language.js';
import { createTranscriptionEngine } from '../processors/transcribe/pipeline.js';
import { decodeToPcm } from '../producers/audio/ffmpeg-decoder.js';
import { openChunker, vadModelOf } from '../producers/audio/speech-chunker.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { LocalStack } from '../runtime/stack/local-stack.js';
import { freePort } from '../runtime/stack/ports.js';
import { LIBRIVOX_DIR, librivoxReferences, speak, wordErrorRate } from '../test/support/audio.js';
import { peakMemoryMiB } from './process-cpu.js';
import { format, listOption, numberOption, printTable, profilingArgs } from './table.js';

const SAMPLE_RATE = 16_000;
const ENGINES = ['faster-whisper', 'pocketsphinx'] as const;
type EngineName = (typeof ENGINES)[number];

/** Written for this benchmark: one sentence per core emotion or two, with the emotion intended. */
export const EMOTIONAL_SENTENCES: ReadonlyArray<{ text: string; emotion: string }> = [
  { text: 'I am so happy today, this is the best day of my life.', emotion: 'joy' },
  { text: 'We won the championship and I cannot stop smiling.', emotion: 'joy' },
  { text: 'I feel so sad and alone.', emotion: 'sadness' },
  { text: 'My grandmother passed away this morning and I miss her so much.', emotion: 'sadness' },
  { text: 'This is the worst customer service ever, I am furious.', emotion: 'anger' },
  { text: 'I am so angry that they lied to me again.', emotion: 'anger' },
  { text: 'I am terrified, someone is following me in the dark.', emotion: 'fear' },
  { text: 'I am scared the surgery will go wrong.', emotion: 'fear' },
  { text: 'Wow, I did not expect that at all, what a surprise!', emotion: 'surprise' },
  { text: 'That food was disgusting, it made me sick.', emotion: 'disgust' },
  { text: 'The meeting is scheduled for three o clock on Tuesday.', emotion: 'neutral' },
];

async function pcmOf(file: string): Promise<Buffer> {
  const decoder = decodeToPcm(file, { sampleRate: SAMPLE_RATE, realtime: false });
  const parts: Buffer[] = [];
  for await (const part of decoder.pcm) parts.push(part as Buffer);
  await decoder.finished;
  return Buffer.concat(parts);
}

/** A recording and what is said in it. */
interface Recording {
  name: string;
  pcm: Buffer;
  reference: string;
}

function librivox(): Promise<Recording[]> {
  const files = existsSync(LIBRIVOX_DIR) ? readdirSync(LIBRIVOX_DIR).filter((f) => f.endsWith('.wav')) : [];
  if (files.length === 0) throw new Error(`no recordings in ${LIBRIVOX_DIR}: install pocketsphinx-testdata`);
  const references = librivoxReferences();
  return Promise.all(
    files.map(async (file) => ({
      name: file,
      pcm: await pcmOf(join(LIBRIVOX_DIR, file)),
      reference: references.get(file.replace(/\.wav$/, ''))!,
    })),
  );
}

async function emotionalRecording(dir: string): Promise<Recording & { file: string }> {
  const file = await speak(
    EMOTIONAL_SENTENCES.map((s) => s.text),
    join(dir, 'emotional.wav'),
    1,
  );
  return {
    name: 'espeak-ng emotional sentences',
    file,
    pcm: await pcmOf(file),
    reference: EMOTIONAL_SENTENCES.map((s) => s.text).join(' '),
  };
}

/** Chunks a recording as the producer does, transcribes each chunk, times the engine alone. */
async function transcribeRecording(
  engine: TranscriptionEngine,
  recording: Recording,
  vadModel: string | undefined,
  chunkMs: number,
) {
  const chunker = await openChunker(SAMPLE_RATE, chunkMs, vadModel);
  const chunks = [...(await chunker.push(recording.pcm)), chunker.end()].filter((c) => c.durationMs > 0);
  const texts: Array<{ startMs: number; endMs: number; text: string }> = [];
  let busyMs = 0;
  let sentMs = 0;
  for (const chunk of chunks) {
    const started = performance.now();
    const transcript = await transcribeOne(engine, chunk.pcm, SAMPLE_RATE, 'en');
    busyMs += performance.now() - started;
    sentMs += chunk.durationMs;
    if (transcript.text.trim()) {
      texts.push({ startMs: chunk.startMs, endMs: chunk.startMs + chunk.durationMs, text: transcript.text });
    }
  }
  const hypothesis = texts.map((t) => t.text).join(' ');
  return {
    chunks: chunks.length,
    sentMs,
    busyMs,
    hypothesis,
    texts,
    wer: wordErrorRate(recording.reference, hypothesis),
  };
}

/** Milliseconds from the start of 16 kHz PCM to its last sample above -40 dBFS. */
function lastSoundMs(pcm: Buffer): number {
  for (let i = pcm.length - 2; i >= 0; i -= 2) if (Math.abs(pcm.readInt16LE(i)) > 328) return i / 32;
  return 0;
}

/** Part 1: WER and real-time factor per engine and set; the worker's memory. */
async function accuracy(logger: Logger, sets: Array<{ name: string; recordings: Recording[] }>) {
  const config = loadConfig();
  const vadModel = vadModelOf(config);
  const rows: Array<{
    engine: EngineName;
    set: string;
    words: number;
    wer: number;
    rtf: number;
    memoryMiB: number;
  }> = [];
  for (const name of ENGINES) {
    const engine = await createTranscriptionEngine({ ...config.transcribe, engine: name }, logger);
    try {
      for (const set of sets) {
        let errors = 0;
        let words = 0;
        let busyMs = 0;
        let audioMs = 0;
        for (const recording of set.recordings) {
          const run = await transcribeRecording(engine, recording, vadModel, config.audio.chunkMs);
          const count = recording.reference.split(/\s+/).length;
          errors += run.wer * count;
          words += count;
          busyMs += run.busyMs;
          audioMs += recording.pcm.length / 32;
        }
        // The worker that heard these English recordings (tiny.en's, where models go by language).
        const worker = engine instanceof ModelPerLanguageEngine ? engine.engineFor('en') : engine;
        const memoryMiB =
          worker instanceof FasterWhisperEngine ? peakMemoryMiB(await worker.workerPid()) : Number.NaN;
        rows.push({
          engine: name,
          set: set.name,
          words,
          wer: errors / words,
          rtf: busyMs / audioMs,
          memoryMiB,
        });
      }
    } finally {
      await engine.close();
    }
  }
  return rows;
}

/** Part 2: silero VAD against the energy chunker on speech with noise and music between. */
async function chunkers(logger: Logger, dir: string) {
  const config = loadConfig();
  const clip = (id: string) => join(LIBRIVOX_DIR, `sense_and_sensibility_01_austen_64kb-${id}.wav`);
  const file = join(dir, 'speech-noise-music.wav');
  // Speech, 3 s of white noise, speech, 3 s of a tremolo chord, speech, 2 s of silence.
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-i', clip('0870'), '-f', 'lavfi', '-i', 'anoisesrc=r=16000:a=0.08:d=3'],
    ...[
      '-i',
      clip('0890'),
      '-f',
      'lavfi',
      '-i',
      'aevalsrc=0.15*sin(2*PI*440*t)*(0.6+0.4*sin(2*PI*3*t))+0.1*sin(2*PI*554*t)+0.1*sin(2*PI*659*t):s=16000:d=3',
    ],
    ...['-i', clip('0920'), '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=2'],
    ...['-filter_complex', '[0][1][2][3][4][5]concat=n=6:v=0:a=1', '-ar', '16000', '-ac', '1', file],
  ]);
  const references = librivoxReferences();
  const recording = {
    name: 'speech, noise, music',
    pcm: await pcmOf(file),
    reference: ['0870', '0890', '0920']
      .map((id) => references.get(`sense_and_sensibility_01_austen_64kb-${id}`)!)
      .join(' '),
  };
  // Noise at 7.1–10.1 s, music at 15.4–18.4 s (LibriVox clips of 7.1, 5.3 and 6.05 s).
  const nonSpeech = [
    [7100, 10_100],
    [15_400, 18_400],
  ];
  const engine = await createTranscriptionEngine({ ...config.transcribe, engine: 'faster-whisper' }, logger);
  const rows = [];
  try {
    for (const [name, vadModel] of [
      ['silero VAD', vadModelOf(config)],
      ['energy', undefined],
    ] as const) {
      const run = await transcribeRecording(engine, recording, vadModel, config.audio.chunkMs);
      const inNoise = run.texts.filter((t) =>
        nonSpeech.some(([from, to]) => t.startMs >= from! - 200 && t.endMs <= to! + 200),
      );
      rows.push({
        chunker: name,
        chunks: run.chunks,
        sentSeconds: run.sentMs / 1000,
        audioSeconds: recording.pcm.length / 32 / 1000,
        wordsInNoise: inNoise.reduce((sum, t) => sum + t.text.split(/\s+/).length, 0),
        wer: run.wer,
        engineSeconds: run.busyMs / 1000,
      });
    }
  } finally {
    await engine.close();
  }
  return rows;
}

interface LiveResult {
  streamId: string;
  endMs: number | null;
  topLabel: string;
  originalText: string;
  seq: number;
  trace: Array<{ stage: string; atMs: number }>;
}

/** A WebSocket client of the gateway's live feed that keeps results and stream events. */
async function liveFeed(url: string, streamId: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/live?streams=${streamId}`);
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const results: Array<{ arrivedAt: number; result: LiveResult }> = [];
  const events: Array<{ kind: string; atMs: number }> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      type: string;
      result?: LiveResult;
      event?: { kind: string; atMs: number };
    };
    if (message.type === 'stream' && message.event) events.push(message.event);
    if (message.type === 'result' && message.result)
      results.push({ arrivedAt: Date.now(), result: message.result });
  });
  return { results, events, close: () => ws.close() };
}

/** Every stage and the gateway as processes of their own, on `stack`, with `env` on top. */
async function withPipeline<T>(
  stack: LocalStack,
  logger: Logger,
  dataDir: string,
  env: Record<string, string>,
  run: (url: string) => Promise<T>,
): Promise<T> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const merged = {
    ...process.env,
    ...stack.env(),
    ...env,
    TOPIC_PREFIX: prefix,
    GATEWAY_DATA_DIR: join(dataDir, `gateway-${prefix}`),
  };
  const supervisor = new ServiceSupervisor({
    services: [
      ...pipelineStageSpecs(19_564),
      {
        name: 'gateway',
        args: ['gateway'],
        portVariable: 'GATEWAY_PORT',
        preferredPort: await freePort(18_080),
      },
    ],
    env: { ...merged, LOG_LEVEL: 'warn', GATEWAY_HOST: '127.0.0.1', GATEWAY_STREAM_URL_ALLOW: '127.0.0.1' },
    logDir: join(dataDir, `logs-${prefix}`),
    logger,
    cliScript: join(packageRoot(), 'cli', 'run.ts'),
    nodeArgs: profilingArgs(),
  });
  try {
    await createPipelineTopics(loadConfig(merged), logger);
    const services = await supervisor.start();
    return await run(`http://127.0.0.1:${services.find((s) => s.name === 'gateway')!.port}`);
  } finally {
    await supervisor.stop();
  }
}

/** Part 3: the emotional sentences uploaded; how many results carry the intended emotion. */
async function emotionsEndToEnd(url: string, file: string) {
  const feed = await liveFeed(url, 'emotional');
  const form = new FormData();
  form.append('streamId', 'emotional');
  form.append('language', 'en');
  form.append('file', new Blob([readFileSync(file)]), 'emotional.wav');
  const response = await fetch(`${url}/v1/audio`, { method: 'POST', body: form });
  if (response.status !== 202)
    throw new Error(`POST /v1/audio answered ${response.status}: ${await response.text()}`);
  const deadline = Date.now() + 180_000;
  while (!feed.events.some((e) => e.kind === 'ended') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // The last chunks are still in the stages when the ingest ends.
  await new Promise((resolve) => setTimeout(resolve, 8000));
  feed.close();
  const results = feed.results.map((r) => r.result).sort((a, b) => a.seq - b.seq);
  // Each sentence is matched to the result holding most of its words (the energy chunker can put
  // two sentences in one chunk; its one label then counts for both).
  let intended = 0;
  const lines: string[] = [];
  const wordsOf = (text: string) => text.toLowerCase().match(/[a-z']+/g) ?? [];
  for (const sentence of EMOTIONAL_SENTENCES) {
    const wanted = wordsOf(sentence.text);
    const best = results
      .map((r) => {
        const heard = new Set(wordsOf(r.originalText));
        return { r, recall: wanted.filter((w) => heard.has(w)).length / wanted.length };
      })
      .sort((a, b) => b.recall - a.recall)[0];
    const heard = best && best.recall >= 0.5 ? best.r : undefined;
    if (heard?.topLabel === sentence.emotion) intended += 1;
    lines.push(`${sentence.emotion}: "${heard?.originalText ?? '(not heard)'}" → ${heard?.topLabel ?? '-'}`);
  }
  return { results: results.length, intended, lines };
}

/**
 * A live source on loopback that sends a 16 kHz WAV in real time from the moment the gateway
 * connects, in 20 ms pieces, and remembers when it sent the first sample: a sample `t` ms into the
 * file leaves at `sentAt + t`, so "the end of speech" is a wall-clock time, decoder buffering
 * included. (ffmpeg -re -listen starts its clock before the client connects and skips what it
 * read meanwhile, which shifts stream time against the file by an unknown amount.)
 */
async function pacedSource(
  wav: Buffer,
): Promise<{ url: string; sentAt: () => number | undefined; done: Promise<void>; close(): void }> {
  const { createServer } = await import('node:http');
  let sentAt: number | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'audio/wav' });
    response.write(wav.subarray(0, 44));
    const pcm = wav.subarray(44);
    const started = Date.now();
    sentAt = started;
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(pcm.length, Math.floor(((Date.now() - started) * 32) / 2) * 2);
      if (due > sent) response.write(pcm.subarray(sent, due));
      sent = due;
      if (sent >= pcm.length) {
        clearInterval(timer);
        response.end();
        finish();
      }
    }, 20);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/live.wav`,
    sentAt: () => sentAt,
    done,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The live stream's two sentences, repeated, per spoken language (Romanian goes to Whisper base). */
const LIVE_SENTENCES = {
  en: ['I feel so sad and alone', 'what a wonderful surprise'],
  ro: ['Sunt foarte fericit astăzi, totul a mers bine', 'M-au mințit din nou și sunt foarte supărat'],
} as const;
type LiveLanguage = keyof typeof LIVE_SENTENCES;

/** Part 4: lag from the end of each spoken sentence to its result on the WebSocket. */
async function liveLag(url: string, dataDir: string, repeats: number, language: LiveLanguage) {
  const gapSeconds = 1.5;
  const sentences = Array.from({ length: repeats }, () => LIVE_SENTENCES[language]).flat();
  const streamId = `broadcast-${language}`;
  const spoken = join(dataDir, `${streamId}-source.wav`);
  const wav = join(dataDir, `${streamId}.wav`);
  if (!existsSync(wav)) {
    await speak(sentences, spoken, gapSeconds, language === 'ro' ? 'ro' : 'en-us');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      spoken,
      '-ar',
      '16000',
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      wav,
    ]);
  }
  // Where each sentence's speech ends in the file: half a second of lead-in, then each spoken part
  // (speak() keeps them beside the file; espeak-ng pads them with silence, so the last sample above
  // -40 dBFS marks the end) and its gap. The engines' own end times are not used: Whisper's last
  // timestamp can run into the pause after the words.
  const spokenEnds: number[] = [];
  let at = 500;
  for (let i = 0; i < sentences.length; i++) {
    const part = await pcmOf(`${spoken}.${i}.wav`);
    spokenEnds.push(at + lastSoundMs(part));
    at += part.length / 32 + gapSeconds * 1000;
  }
  const source = await pacedSource(readFileSync(wav));
  try {
    const feed = await liveFeed(url, streamId);
    const response = await fetch(`${url}/v1/streams`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: source.url, streamId, language }),
    });
    if (response.status !== 202)
      throw new Error(`POST /v1/streams answered ${response.status}: ${await response.text()}`);
    await source.done;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    feed.close();
    const sentAt = source.sentAt();
    if (sentAt === undefined) throw new Error('the gateway never connected to the live source');
    const lags: number[] = [];
    const beforeProduce: number[] = [];
    const hops = new Map<string, number[]>();
    for (const { arrivedAt, result } of feed.results) {
      if (result.endMs === null) continue;
      // The sentence whose end is nearest the result's end (stream time is file time here).
      const end = spokenEnds.reduce((best, e) =>
        Math.abs(e - result.endMs!) < Math.abs(best - result.endMs!) ? e : best,
      );
      const spokenEnd = sentAt + end;
      if (process.env.BENCH_DEBUG) {
        process.stderr.write(
          `result seq ${result.seq} endMs ${result.endMs} spoken end ${end} produced +${result.trace[0]!.atMs - spokenEnd} arrived +${arrivedAt - spokenEnd} "${result.originalText}" trace ${result.trace.map((t) => `${t.stage} +${t.atMs - spokenEnd}`).join(' ')}\n`,
        );
      }
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
      // Nearest rank: of 10 results, the 9th.
      lagP90Ms: sorted[Math.ceil(sorted.length * 0.9) - 1] ?? Number.NaN,
      lagMaxMs: sorted.at(-1) ?? Number.NaN,
      beforeProduceP50Ms: median(beforeProduce),
      hops: Object.fromEntries([...hops].map(([hop, values]) => [hop, median(values)])),
    };
  } finally {
    source.close();
  }
}

export async function main(json: boolean): Promise<void> {
  const repeats = numberOption('repeats', 5);
  // --parts 1,2,3,4: which parts to run (all by default).
  const parts = new Set(listOption('parts', [1, 2, 3, 4]));
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-audio-'));
  try {
    const emotional = await emotionalRecording(dataDir);
    const sets = [
      { name: 'LibriVox', recordings: await librivox() },
      { name: 'espeak-ng emotional', recordings: [emotional] },
    ];
    const wer = parts.has(1) ? await accuracy(logger, sets) : [];
    const chunking = parts.has(2) ? await chunkers(logger, dataDir) : [];
    const classifier = await createEmotionEngine(await resolveRegistryModels(loadConfig(), logger), logger);
    const written = await classifier.run(
      EMOTIONAL_SENTENCES.map((s) => s.text),
      { lang: 'en' },
    );
    await classifier.close();
    const writtenIntended = written.filter((r, i) => r.topLabel === EMOTIONAL_SENTENCES[i]!.emotion).length;

    const stack = await LocalStack.start({ config: loadConfig(), dataDir: join(dataDir, 'stack'), logger });
    const runs: Array<{ name: string; env: Record<string, string>; e2e: boolean; language: LiveLanguage }> = [
      { name: 'faster-whisper, silero VAD (default)', env: {}, e2e: true, language: 'en' },
      // The same pipeline on a Romanian live stream: base (beam 5, a prompt) instead of tiny.en.
      { name: 'faster-whisper, silero VAD, Romanian (base)', env: {}, e2e: false, language: 'ro' },
      { name: 'faster-whisper, energy chunker', env: { AUDIO_VAD: 'energy' }, e2e: false, language: 'en' },
      // What ran before: pocketsphinx, the energy chunker, 3 s chunks.
      {
        name: 'pocketsphinx, energy chunker, 3 s (before)',
        env: { TRANSCRIBE_ENGINE: 'pocketsphinx', AUDIO_VAD: 'energy', AUDIO_CHUNK_MS: '3000' },
        e2e: true,
        language: 'en',
      },
    ];
    const pipelines = [];
    try {
      for (const run of runs.filter((r) => (r.e2e && parts.has(3)) || parts.has(4))) {
        pipelines.push(
          await withPipeline(stack, logger, dataDir, run.env, async (url) => ({
            name: run.name,
            e2e: run.e2e && parts.has(3) ? await emotionsEndToEnd(url, emotional.file) : undefined,
            live: parts.has(4) ? await liveLag(url, dataDir, repeats, run.language) : undefined,
          })),
        );
      }
    } finally {
      await stack.stop();
    }

    printTable('audio 1: word error rate and real-time factor (engine time / audio), per engine', [
      ...wer.map(
        (r) =>
          [
            `${r.engine}, ${r.set} (${r.words} words)`,
            `WER ${format(r.wer, 3)}, RTF ${format(r.rtf, 3)}${Number.isNaN(r.memoryMiB) ? '' : `, worker peak ${format(r.memoryMiB, 0)} MiB`}`,
          ] as [string, string],
      ),
    ]);
    printTable('audio 2: chunkers on speech with 3 s of noise and 3 s of music between (faster-whisper)', [
      ...chunking.map(
        (r) =>
          [
            r.chunker,
            `${r.chunks} chunks, ${format(r.sentSeconds, 1)} of ${format(r.audioSeconds, 1)} s sent, ${r.wordsInNoise} words heard in noise/music, WER ${format(r.wer, 3)}, engine ${format(r.engineSeconds, 2)} s`,
          ] as [string, string],
      ),
    ]);
    printTable('audio 3: emotional sentences, intended emotion (upload → WebSocket, every stage a process)', [
      ['classifier on the written text', `${writtenIntended} / ${EMOTIONAL_SENTENCES.length}`],
      ...pipelines
        .filter((p) => p.e2e)
        .map(
          (p) =>
            [p.name, `${p.e2e!.intended} / ${EMOTIONAL_SENTENCES.length} (${p.e2e!.results} results)`] as [
              string,
              string,
            ],
        ),
    ]);
    for (const p of pipelines.filter((p) => p.e2e))
      process.stdout.write(`${p.name}:\n  ${p.e2e!.lines.join('\n  ')}\n`);
    printTable('audio 4: live lag, end of speech → result on the WebSocket (ms)', [
      ...pipelines.flatMap((p) =>
        !p.live
          ? []
          : ([
              [
                p.name,
                `${p.live.results} results, p50 ${format(p.live.lagP50Ms, 0)} / p90 ${format(p.live.lagP90Ms, 0)} / max ${format(p.live.lagMaxMs, 0)}`,
              ],
              [
                '  where it goes (median ms)',
                `before produce ${format(p.live.beforeProduceP50Ms, 0)}; ${Object.entries(p.live.hops)
                  .map(([hop, ms]) => `${hop} ${ms}`)
                  .join(', ')}`,
              ],
            ] as Array<[string, string]>),
      ),
    ]);
    if (json) {
      process.stdout.write(
        `${JSON.stringify({
          wer: wer.map((r) => ({
            engine: r.engine,
            set: r.set,
            wer: r.wer,
            rtf: r.rtf,
            worker_peak_mib: r.memoryMiB,
          })),
          chunkers: chunking,
          emotions: {
            written: writtenIntended,
            sentences: EMOTIONAL_SENTENCES.length,
            ...Object.fromEntries(pipelines.filter((p) => p.e2e).map((p) => [p.name, p.e2e!.intended])),
          },
          live: Object.fromEntries(
            pipelines.flatMap((p) =>
              p.live
                ? [
                    [
                      p.name,
                      {
                        p50_ms: p.live.lagP50Ms,
                        p90_ms: p.live.lagP90Ms,
                        max_ms: p.live.lagMaxMs,
                        hops_ms: p.live.hops,
                      },
                    ],
                  ]
                : [],
            ),
          ),
        })}\n`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
