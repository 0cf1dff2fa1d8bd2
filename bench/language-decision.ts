/**
 * One language per stream, decided from its first speech (processors/transcribe/stream-language.ts):
 * 10 Romanian streams (the project's sentences, eval/speech-ro, three a stream) and 10 English
 * streams (eval/out-of-domain/en.csv's first 30 texts, three a stream), each sentence spoken by
 * espeak-ng and given to the transcribe stage's handler as one chunk without a language hint, as
 * the producer cuts speech at its pauses. The shipped settings: TRANSCRIBE_LANGUAGES en,ro, floor 0.8,
 * fallback after 10 s of speech, Whisper base telling the languages apart, tiny.en and base
 * transcribing. Per stream: the language decided, how (confident or fallback), after how much
 * speech and how many chunks; right per language; and what deciding costs the first chunks
 * (wall time a chunk until the decision, against the same chunks with the language given, whose
 * first chunk is checked once against Whisper's language token). A stream still undecided after
 * its three sentences (9–10 s of speech) counts as wrong.
 */
import { loadConfig } from '../cli/config.js';
import { createTranscriptionEngine } from '../processors/transcribe/pipeline.js';
import { TranscribeHandler } from '../processors/transcribe/stage.js';
import type { LanguageDecision, StreamLanguage } from '../processors/transcribe/stream-language.js';
import { createLogger } from '../runtime/logger.js';
import { InMemoryState } from '../runtime/stage/keyed-state.js';
import type { InputRecord } from '../runtime/stage/types.js';
import type { AudioChunk, StreamEvent } from '../schemas/index.js';
import { audioChunkRecord, spokenPcm } from '../test/support/audio.js';
import { outOfDomainEnglish } from '../test/support/conversations.js';
import { romanianSentences } from './romanian-speech.js';
import { format, printTable } from './table.js';

const STREAMS_PER_LANGUAGE = 10;
const SENTENCES_PER_STREAM = 3;

/** A chunk of `streamId` as the stage receives it. */
function chunkRecord(
  streamId: string,
  seq: number,
  pcm: Buffer,
  hint: string | null,
): InputRecord<AudioChunk> {
  return audioChunkRecord(seq, pcm, { startMs: seq * 10_000, streamId, languageHint: hint });
}

interface StreamRun {
  language: string;
  decision: LanguageDecision | undefined;
  msPerChunkUntilDecided: number;
  msPerChunkHinted: number;
}

export async function main(json: boolean): Promise<void> {
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const config = loadConfig();
  const settings = config.transcribe.languageDecision;
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  const ro = romanianSentences().map((sentence) => sentence.text);
  const en = outOfDomainEnglish();
  const streams = [
    ...Array.from({ length: STREAMS_PER_LANGUAGE }, (_, i) => ({
      language: 'ro',
      voice: 'ro',
      texts: ro.slice(i * SENTENCES_PER_STREAM, (i + 1) * SENTENCES_PER_STREAM),
    })),
    ...Array.from({ length: STREAMS_PER_LANGUAGE }, (_, i) => ({
      language: 'en',
      voice: 'en-us',
      texts: en.slice(i * SENTENCES_PER_STREAM, (i + 1) * SENTENCES_PER_STREAM),
    })),
  ];
  const runs: StreamRun[] = [];
  try {
    // One warm-up chunk per model: the first request pays for the model's first allocations.
    await engine.run([{ pcm: spokenPcm(ro[0]!, 'ro'), sampleRate: 16_000, langHint: 'ro' }], {});
    await engine.run([{ pcm: spokenPcm(en[0]!, 'en-us'), sampleRate: 16_000, langHint: 'en' }], {});
    for (const [index, stream] of streams.entries()) {
      const streamId = `${stream.language}-${index}`;
      const state = new InMemoryState<StreamLanguage>();
      const handler = new TranscribeHandler(
        engine,
        'segments.raw',
        config.transcribe.silenceLevel,
        { settings, state },
        'events',
      );
      const hinted = new TranscribeHandler(engine, 'segments.raw', config.transcribe.silenceLevel, {
        settings,
        state: new InMemoryState<StreamLanguage>(),
      });
      let decision: LanguageDecision | undefined;
      let autoMs = 0;
      let hintMs = 0;
      let chunks = 0;
      for (const [seq, text] of stream.texts.entries()) {
        const pcm = spokenPcm(text, stream.voice);
        let startedAt = performance.now();
        const [outcome] = await handler.process([chunkRecord(streamId, seq, pcm, null)]);
        autoMs += performance.now() - startedAt;
        startedAt = performance.now();
        await hinted.process([chunkRecord(streamId, seq, pcm, stream.language)]);
        hintMs += performance.now() - startedAt;
        chunks += 1;
        const event = ('outputs' in outcome! ? outcome.outputs : []).find((o) => o.topic === 'events');
        if ((event?.value as StreamEvent | undefined)?.kind === 'language') {
          const known = state.get(0, streamId);
          decision = known && 'decision' in known ? known.decision : undefined;
          break;
        }
      }
      runs.push({
        language: stream.language,
        decision,
        msPerChunkUntilDecided: autoMs / chunks,
        msPerChunkHinted: hintMs / chunks,
      });
      process.stderr.write(
        `language-decision: ${streamId}: ${decision ? `${decision.language} (${decision.reason}, ${format(decision.speechMs / 1000, 1)} s)` : 'undecided'}\n`,
      );
    }
  } finally {
    await engine.close();
  }

  const byLanguage = ['ro', 'en'].map((language) => {
    const mine = runs.filter((run) => run.language === language);
    const right = mine.filter(
      (run) => run.decision?.language === language && run.decision.speechMs <= settings.withinMs,
    );
    const decided = mine.filter((run) => run.decision);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    return {
      language,
      streams: mine.length,
      right: right.length,
      confident: mine.filter((run) => run.decision?.reason === 'confident').length,
      undecided: mine.length - decided.length,
      mean_speech_s: mean(decided.map((run) => run.decision!.speechMs / 1000)),
      mean_chunks: mean(decided.map((run) => run.decision!.windows)),
      ms_per_chunk_until_decided: Math.round(mean(mine.map((run) => run.msPerChunkUntilDecided))),
      ms_per_chunk_hinted: Math.round(mean(mine.map((run) => run.msPerChunkHinted))),
    };
  });
  printTable(
    `language decided per stream: ${STREAMS_PER_LANGUAGE} Romanian and ${STREAMS_PER_LANGUAGE} English espeak-ng streams, no hint, among ${settings.candidates.join(', ')} (floor ${settings.confidence}, fallback after ${settings.withinMs / 1000} s)`,
    [
      [
        'spoken',
        'right within the limit',
        'confident',
        'undecided',
        'mean speech to decide (s)',
        'mean chunks',
        'ms a chunk until decided',
        'ms a chunk, language given (first chunk checked)',
      ],
      ...byLanguage.map((row): [string, ...string[]] => [
        row.language,
        `${row.right} of ${row.streams}`,
        String(row.confident),
        String(row.undecided),
        format(row.mean_speech_s, 1),
        format(row.mean_chunks, 1),
        format(row.ms_per_chunk_until_decided),
        format(row.ms_per_chunk_hinted),
      ]),
    ],
  );
  if (json)
    process.stdout.write(
      `${JSON.stringify({
        streams: runs.map((run) => ({
          spoken: run.language,
          decided: run.decision?.language ?? null,
          reason: run.decision?.reason ?? null,
          speech_ms: run.decision?.speechMs ?? null,
          chunks: run.decision?.windows ?? null,
          shares: run.decision?.shares ?? null,
        })),
        by_language: byLanguage,
      })}\n`,
    );
}
