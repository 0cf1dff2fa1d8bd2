import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { type AsrRuntime, findAsrRuntime } from '../../processors/transcribe/asr-runtime.js';
import type { TranscriptionEngine } from '../../processors/transcribe/engine.js';
import {
  type FasterWhisperEngine,
  localWhisperEngine,
  transcriptOf,
  workerArgs,
  workerLanguage,
} from '../../processors/transcribe/faster-whisper-engine.js';
import { createTranscriptionEngine } from '../../processors/transcribe/pipeline.js';
import { TranscribeHandler } from '../../processors/transcribe/stage.js';
import type { StreamSpeakers } from '../../processors/transcribe/stream-speakers.js';
import { RetryableError, UnprocessableRecordError } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import { InMemoryState } from '../../runtime/stage/keyed-state.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { AudioChunk, StreamEvent, TextSegment } from '../../schemas/index.js';
import {
  audioChunkRecord,
  LIBRIVOX_DIR,
  spokenPcm,
  streamLanguages,
  wordErrorRate,
} from '../support/audio.js';
import { DISTINCT_VOICES, type Voice, voicePcm } from '../support/conversations.js';

function installedRuntime(): AsrRuntime {
  const found = findAsrRuntime(undefined);
  if ('missing' in found) throw new Error(`faster-whisper is not installed: ${found.missing}`);
  return found;
}
const runtime = installedRuntime();

/** One of the project's Romanian sentences (eval/speech-ro), spoken by espeak-ng -v ro. */
const ROMANIAN = 'Sunt furios pe ce s-a întâmplat la ședință.';

/** A LibriVox recording (pocketsphinx-testdata) as 16 kHz PCM: the WAV without its header. */
const clip = (name: string) =>
  readFileSync(join(LIBRIVOX_DIR, `sense_and_sensibility_01_austen_64kb-${name}.wav`)).subarray(44);

function engine(model = runtime.defaultModel): FasterWhisperEngine {
  return localWhisperEngine({
    python: runtime.python,
    model,
    modelName: 'tiny.en',
    timeoutMs: 60_000,
    logger: silentLogger(),
  });
}

const open: TranscriptionEngine[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

function chunk(seq: number, pcm: Buffer, languageHint: string | null): InputRecord<AudioChunk> {
  return audioChunkRecord(seq, pcm, { startMs: seq * 10_000, languageHint, source: 'talk.wav' });
}

describe('faster-whisper engine', () => {
  it('hears real recorded speech with Whisper timestamps and a token-probability confidence', async () => {
    const whisper = engine();
    open.push(whisper);
    await whisper.start();
    const [first, second] = await whisper.run([
      { pcm: clip('0920'), sampleRate: 16_000, langHint: 'en' },
      { pcm: clip('0930'), sampleRate: 16_000, langHint: null },
    ]);
    expect(
      wordErrorRate(
        'had he married a more amiable woman he might have been made still more respectable than he was',
        first!.text,
      ),
    ).toBeLessThan(0.1);
    expect(wordErrorRate('he might even have been made amiable himself', second!.text)).toBeLessThan(0.15);
    expect(first!.language).toBe('en');
    expect(first!.segments[0]!.startMs).toBeGreaterThanOrEqual(0);
    expect(first!.segments.at(-1)!.endMs).toBeLessThanOrEqual(6100);
    expect(first!.confidence).toBeGreaterThan(0.5);
    expect(first!.confidence).toBeLessThanOrEqual(1);
    // tiny.en is English-only: it says so, and the stage asks before sending it Romanian.
    expect(whisper.supportsLanguage('en')).toBe(true);
    expect(whisper.supportsLanguage('ro')).toBe(false);
  });

  it('fails at start naming a model directory that holds no model', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-whisper-'));
    mkdirSync(join(empty, 'model'));
    await expect(engine(join(empty, 'model')).start()).rejects.toThrow(
      new RegExp(
        `cannot load the faster-whisper model ${join(empty, 'model')}: .*holds no CTranslate2 model.bin`,
      ),
    );
    await expect(engine('/nonexistent/whisper').start()).rejects.toThrow(
      /model directory \/nonexistent\/whisper does not exist/,
    );
  });

  it('fails a batch as retryable when its worker is killed, and answers the retry with a new worker', async () => {
    const whisper = engine();
    open.push(whisper);
    await whisper.start();
    const pid = (await whisper.workerPid())!;
    const inputs = ['0870', '0890', '0920'].map((name) => ({
      pcm: clip(name),
      sampleRate: 16_000,
      langHint: 'en',
    }));
    const batch = whisper.run(inputs);
    setTimeout(() => process.kill(pid, 'SIGKILL'), 300);
    await expect(batch).rejects.toBeInstanceOf(RetryableError);
    const retried = await whisper.run(inputs);
    expect(retried.map((t) => t.text.length > 20)).toEqual([true, true, true]);
    expect(await whisper.workerPid()).not.toBe(pid);
  });

  it('tells the worker the chunk language, the configured one, or lets a multilingual model detect it', () => {
    expect(workerLanguage('ro', undefined, true)).toBe('ro');
    expect(workerLanguage(null, 'ro', true)).toBe('ro');
    expect(workerLanguage(null, undefined, true)).toBeNull();
    expect(workerLanguage(null, undefined, false)).toBe('en');
    // A production multilingual model for Romanian on a GPU pool: its id, float16, downloads allowed.
    const args = workerArgs({
      model: 'large-v3',
      modelName: 'large-v3',
      device: 'cuda',
      computeType: 'float16',
      threads: 4,
      beamSize: 5,
      language: 'ro',
      downloadDir: '/models',
      allowDownload: true,
      timeoutMs: 1000,
    });
    expect(args.join(' ')).toBe(
      '--model large-v3 --device cuda --compute-type float16 --threads 4 --beam-size 5 --download-root /models',
    );
  });

  it('maps a worker error for one chunk to an unprocessable record', () => {
    expect(() => transcriptOf({ id: 'c1', error: 'odd byte count 3 for 16-bit PCM' }, 1000)).toThrow(
      UnprocessableRecordError,
    );
    expect(
      transcriptOf(
        {
          id: 'c1',
          text: 'hi',
          language: 'en',
          languageProbability: 1,
          segments: [
            {
              startMs: 0,
              endMs: 500,
              text: 'hi',
              avgLogprob: Math.log(0.8),
              noSpeechProb: 0.1,
              compressionRatio: 1.2,
            },
          ],
        },
        1000,
      ).confidence,
    ).toBeCloseTo(0.8, 5);
    // Whisper's last timestamp past the audio's end is kept within the chunk.
    const late = transcriptOf(
      {
        id: 'c2',
        text: 'hi',
        language: 'en',
        languageProbability: 1,
        segments: [
          {
            startMs: 200,
            endMs: 3000,
            text: 'hi',
            avgLogprob: -0.1,
            noSpeechProb: 0.1,
            compressionRatio: 1.2,
          },
        ],
      },
      2848,
    );
    expect(late.segments).toEqual([{ startMs: 200, endMs: 2848, text: 'hi' }]);
  });

  it('is chosen by default where installed, and pocketsphinx is said to be the fallback where not', async () => {
    const lines: string[] = [];
    const logger = silentLogger();
    logger.level = 'warn';
    const captured = Object.assign(logger, {
      warn: (object: object, message: string) => lines.push(`${message} ${JSON.stringify(object)}`),
    });
    const fallback = await createTranscriptionEngine(
      loadConfig({ ASR_RUNTIME_DIR: '/nonexistent/asr' }).transcribe,
      captured,
    );
    open.push(fallback);
    expect(fallback.name).toBe('pocketsphinx');
    expect(lines.join('\n')).toMatch(
      /faster-whisper is not installed: transcribing with pocketsphinx.*nonexistent\/asr/,
    );
    await expect(
      createTranscriptionEngine(
        loadConfig({ TRANSCRIBE_ENGINE: 'faster-whisper', ASR_RUNTIME_DIR: '/nonexistent/asr' }).transcribe,
        logger,
      ),
    ).rejects.toThrow(/TRANSCRIBE_ENGINE=faster-whisper: .*install-asr.sh/);
    const chosen = await createTranscriptionEngine(loadConfig({}).transcribe, logger);
    open.push(chosen);
    // The embedded default: tiny.en for English, multilingual base for every other language.
    expect([chosen.name, chosen.model]).toEqual(['faster-whisper', 'en=tiny.en,*=base']);
    const single = await createTranscriptionEngine(
      loadConfig({ WHISPER_MODEL: runtime.defaultModel }).transcribe,
      logger,
    );
    open.push(single);
    expect(single.model).toBe(runtime.defaultModel);
  });
});

describe('a Whisper model per language (WHISPER_MODELS)', () => {
  it('hears English with tiny.en and Romanian with base in one batch, diacritics intact, and refuses a language no model knows', async () => {
    const routed = await createTranscriptionEngine(loadConfig({}).transcribe, silentLogger());
    open.push(routed);
    const romanian = spokenPcm(ROMANIAN, 'ro');
    const [english, spoken, unhinted] = await routed.run(
      [
        { pcm: clip('0930'), sampleRate: 16_000, langHint: 'en' },
        { pcm: romanian, sampleRate: 16_000, langHint: 'ro' },
        { pcm: clip('0930'), sampleRate: 16_000, langHint: null },
      ],
      {},
    );
    expect(english).toMatchObject({ language: 'en', model: 'tiny.en' });
    expect(english!.text).toMatch(/amiable/);
    expect(spoken).toMatchObject({ language: 'ro', model: 'base' });
    expect(spoken!.text).toMatch(/[ăâîșț]/i);
    // Whisper's cedilla letters never reach the transcript: only the comma-below forms.
    expect(spoken!.text).not.toMatch(/[şţŞŢ]/);
    expect(wordErrorRate(ROMANIAN, spoken!.text)).toBeLessThan(0.6);
    // Without a hint a chunk is taken as English, as before WHISPER_MODELS.
    expect(unhinted).toMatchObject({ language: 'en', model: 'tiny.en' });
    expect(routed.supportsLanguage('ro')).toBe(true);
    expect(routed.supportsLanguage('de')).toBe(true);
    // Igbo: no Whisper model was trained on it.
    expect(routed.supportsLanguage('ig')).toBe(false);

    const handler = new TranscribeHandler(routed, 'segments.raw', 0.003, streamLanguages(), 'stream.events');
    const [refused] = await handler.process([chunk(0, clip('0880'), 'ig')]);
    const warning = ('outputs' in refused! ? refused.outputs : [])[0]!;
    expect(warning.topic).toBe('stream.events');
    expect((warning.value as StreamEvent).message).toMatch(
      /model en=tiny.en,\*=base cannot transcribe language 'ig'/,
    );
  });
});

describe('transcribe stage with an English-only model', () => {
  it('skips a Romanian stream with one warning event instead of English gibberish', async () => {
    const whisper = engine();
    open.push(whisper);
    await whisper.start();
    const handler = new TranscribeHandler(
      whisper,
      'segments.raw',
      0.003,
      streamLanguages(['en', 'ro']),
      'stream.events',
    );
    const outcomes = await handler.process([
      chunk(0, clip('0880'), 'ro'),
      chunk(1, clip('0930'), 'ro'),
      chunk(2, clip('0930'), 'en'),
    ]);
    const outputs = outcomes.map((o) => ('outputs' in o ? o.outputs : []));
    expect(outputs[0]).toHaveLength(1);
    const warning = outputs[0]![0]!;
    expect(warning.topic).toBe('stream.events');
    expect(warning.value as StreamEvent).toMatchObject({ streamId: 's', kind: 'warning' });
    expect((warning.value as StreamEvent).message).toMatch(
      /model tiny.en cannot transcribe language 'ro'.*multilingual/,
    );
    // Once per stream, and the English chunk of the same batch is transcribed.
    expect(outputs[1]).toEqual([]);
    expect(outputs[2]![0]!.topic).toBe('segments.raw');
    expect((outputs[2]![0]!.value as TextSegment).text).toMatch(/amiable/);
    expect((outputs[2]![0]!.value as TextSegment).asr).toMatchObject({
      engine: 'faster-whisper',
      model: 'tiny.en',
    });
  });
});

describe('one language per stream (TRANSCRIBE_LANGUAGES)', () => {
  /** A chunk of stream `streamId` with no hint. */
  const unhinted = (streamId: string, seq: number, pcm: Buffer, languageHint: string | null = null) => {
    const record = audioChunkRecord(seq, pcm, { startMs: seq * 10_000, languageHint, streamId });
    return { ...record, key: streamId };
  };

  it('decides an English and a Romanian stream from their first speech, tells it once, and keeps it', async () => {
    const routed = await createTranscriptionEngine(loadConfig({}).transcribe, silentLogger());
    open.push(routed);
    const languages = streamLanguages(['en', 'ro']);
    const handler = new TranscribeHandler(routed, 'segments.raw', 0.003, languages, 'stream.events');
    const outcomes = await handler.process([
      unhinted('talk', 0, clip('0930')),
      unhinted('vorbire', 0, spokenPcm(ROMANIAN, 'ro')),
      unhinted('vorbire', 1, spokenPcm('Mi-e teamă că nu vom reuși la timp.', 'ro')),
    ]);
    const outputs = outcomes.map((o) => ('outputs' in o ? o.outputs : []));
    const events = outputs
      .flat()
      .filter((o) => o.topic === 'stream.events')
      .map((o) => o.value as StreamEvent);
    const segments = outputs
      .flat()
      .filter((o) => o.topic === 'segments.raw')
      .map((o) => o.value as TextSegment);
    // One decision per stream, with its evidence: English from its first chunk, Romanian (espeak's
    // voice, which Whisper's language token hears as Czech or Polish) from one or two.
    expect(events.map((e) => [e.streamId, e.kind, e.language])).toEqual([
      ['talk', 'language', 'en'],
      ['vorbire', 'language', 'ro'],
    ]);
    expect(events[1]!.message).toMatch(
      /^language ro decided after \d\.\d s of speech in (1 chunk|2 chunks) \(ro [01]\.\d\d, en [01]\.\d\d\)$/,
    );
    expect(events[1]!.languageShares!.ro).toBeGreaterThanOrEqual(0.8);
    expect(segments.map((s) => [s.streamId, s.language, s.asr?.model])).toEqual([
      ['talk', 'en', 'tiny.en'],
      ['vorbire', 'ro', 'base'],
      ['vorbire', 'ro', 'base'],
    ]);
    expect(segments[0]!.text).toMatch(/amiable/);
    expect(segments[1]!.text).toMatch(/[ăâîșț]/i);
    expect(languages.state.get(0, 'vorbire')).toMatchObject({
      decision: { language: 'ro', reason: 'confident' },
    });
    // Decided for good: a later chunk that sounds English changes nothing and says nothing.
    const [later] = await handler.process([unhinted('vorbire', 2, clip('0930'))]);
    const laterOutputs = 'outputs' in later! ? later.outputs : [];
    expect(laterOutputs.map((o) => o.topic)).toEqual(['segments.raw']);
    expect((laterOutputs[0]!.value as TextSegment).language).toBe('ro');
  });

  it('warns once when a hinted stream clearly sounds like another of its languages, and keeps the hint', async () => {
    const routed = await createTranscriptionEngine(loadConfig({}).transcribe, silentLogger());
    open.push(routed);
    const handler = new TranscribeHandler(
      routed,
      'segments.raw',
      0.003,
      streamLanguages(['en', 'ro']),
      'stream.events',
    );
    const outcomes = await handler.process([
      unhinted('wrong', 0, clip('0930'), 'ro'),
      unhinted('wrong', 1, clip('0880'), 'ro'),
    ]);
    const outputs = outcomes.map((o) => ('outputs' in o ? o.outputs : []));
    const warning = outputs[0]!.find((o) => o.topic === 'stream.events')!.value as StreamEvent;
    expect(warning.kind).toBe('warning');
    expect(warning.message).toMatch(
      /given as 'ro' but its first speech sounds like 'en' \([01]\.\d\d of en, ro\); it is transcribed as 'ro'\. If the language is wrong, restart the stream with language 'en' or auto/,
    );
    expect(outputs[1]!.filter((o) => o.topic === 'stream.events')).toEqual([]);
    const segments = outputs
      .flat()
      .filter((o) => o.topic === 'segments.raw')
      .map((o) => o.value as TextSegment);
    expect(segments.every((s) => s.language === 'ro')).toBe(true);
  });
});

describe('speaker turns (TRANSCRIBE_SPEAKERS)', () => {
  /** A chunk of stream `talk` starting at `startMs`. */
  const spokenChunk = (seq: number, pcm: Buffer, startMs: number) => {
    const record = audioChunkRecord(seq, pcm, { startMs, streamId: 'talk', languageHint: 'en' });
    return { ...record, key: 'talk' };
  };
  const segmentsOf = (outcomes: Awaited<ReturnType<TranscribeHandler['process']>>) =>
    outcomes
      .flatMap((o) => ('outputs' in o ? o.outputs : []))
      .filter((o) => o.topic === 'segments.raw')
      .map((o) => o.value as TextSegment);

  it('labels two voices S1 and S2 by turn, splits a chunk holding a change of speaker, and keeps one voice one speaker', async () => {
    if (!runtime.speakerModel) throw new Error('install-asr.sh installed no voice encoder (speakerModel)');
    const config = loadConfig({});
    const routed = await createTranscriptionEngine(config.transcribe, silentLogger());
    open.push(routed);
    const handler = new TranscribeHandler(routed, 'segments.raw', 0.003, streamLanguages(), 'stream.events', {
      settings: config.transcribe.speakers,
      state: new InMemoryState<StreamSpeakers>(),
    });
    const [host, guest] = DISTINCT_VOICES.slice(0, 2) as [Voice, Voice];
    const turns: Array<[Voice, string]> = [
      [host, 'Good morning and welcome back to the show, it is great to have you here.'],
      [guest, 'Thank you for having me, I have been looking forward to this all week.'],
      [host, 'Tell us what happened when the factory closed last spring.'],
      [guest, 'It was a terrible shock for the whole town, nobody saw it coming.'],
    ];
    const pcms = turns.map(([voice, text]) => voicePcm(text, voice));
    // The last two turns in one chunk with a short pause: the chunk holds the change of speaker.
    const together = Buffer.concat([pcms[2]!, Buffer.alloc(300 * 32), pcms[3]!]);
    const segments = segmentsOf(
      await handler.process([
        spokenChunk(0, pcms[0]!, 0),
        spokenChunk(1, pcms[1]!, 10_000),
        spokenChunk(2, together, 20_000),
      ]),
    );
    expect(segments.map((s) => [s.id, s.speaker])).toEqual([
      ['talk:0', 'S1'],
      ['talk:1', 'S2'],
      ['talk:2', 'S1'],
      ['talk:2.2', 'S2'],
    ]);
    // The split is at Whisper's segment boundary: each part holds its own turn's words, in order.
    expect(segments[2]!.text).toMatch(/factory/);
    expect(segments[2]!.text).not.toMatch(/shock/);
    expect(segments[3]!.text).toMatch(/shock/);
    expect(segments[3]!.seq).toBe(2);
    expect(segments[3]!.startMs!).toBeGreaterThanOrEqual(segments[2]!.endMs!);

    // A human reader alone stays one speaker over all five of his recordings.
    const reader = segmentsOf(
      await handler.process(
        ['0870', '0880', '0890', '0920', '0930'].map((name, seq) => ({
          ...spokenChunk(seq, clip(name), seq * 10_000),
          key: 'reading',
          value: { ...spokenChunk(seq, clip(name), seq * 10_000).value, streamId: 'reading' },
        })),
      ),
    );
    expect(reader.map((s) => s.speaker)).toEqual(['S1', 'S1', 'S1', 'S1', 'S1']);
  });
});
