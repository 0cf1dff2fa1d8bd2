import type { TranscriptLine } from '../gateway/transcripts/transcript-formats.js';
import {
  type Transcript,
  type TranscriptionEngine,
  transcribeOne,
  unsupportedLanguage,
} from '../processors/transcribe/engine.js';
import { speakerTurns } from '../processors/transcribe/speaker-turns.js';
import {
  decide,
  EMPTY_TALLY,
  hearableBy,
  type LanguageDecision,
  type LanguageDecisionSettings,
  type LanguageTally,
  withEvidence,
} from '../processors/transcribe/stream-language.js';
import { NO_SPEAKERS, type SpeakerSettings } from '../processors/transcribe/stream-speakers.js';
import { AudioInputError, decodeToPcm, describe } from '../producers/audio/ffmpeg-decoder.js';
import { resolveAudioInput } from '../producers/audio/resolve-input.js';
import { openChunker } from '../producers/audio/speech-chunker.js';

const SAMPLE_RATE = 16_000;
const MAX_QUEUED = 4;

export interface FileTranscript {
  lines: TranscriptLine[];
  /** The language heard most (by audio time), or the one asked for. */
  language: string;
  /** The model that heard that language, where the engine holds a model per language. */
  model: string | undefined;
  /** How the language was decided, when none was given and there were candidates to choose from. */
  decision?: LanguageDecision;
}

type Chunk = { pcm: Buffer; startMs: number; durationMs: number };

/**
 * One file or URL transcribed in-process, without Kafka: the producers' decoder and chunker, then
 * the engine, chunk by chunk as the audio is decoded (each chunk queued to the engine at once, the
 * answers taken in order). Segment times are in the audio's own time.
 */
export async function transcribeFile(options: {
  input: string;
  engine: TranscriptionEngine;
  chunkMs: number;
  vadModel: string | undefined;
  language: string | undefined;
  /** Without a language: the candidates it is decided among, as the transcribe stage does. */
  languages?: LanguageDecisionSettings;
  /** Tell speakers apart, as the transcribe stage does (where the engine has a voice encoder). */
  speakers?: SpeakerSettings;
  onProgress?: (audioMs: number) => void;
  onLanguage?: (decision: LanguageDecision) => void;
}): Promise<FileTranscript> {
  const { engine } = options;
  let language = options.language;
  if (language && !engine.supportsLanguage(language)) {
    throw new AudioInputError(unsupportedLanguage(engine, language));
  }
  const source = describe(options.input);
  const decoder = decodeToPcm(await resolveAudioInput(options.input), {
    sampleRate: SAMPLE_RATE,
    realtime: false,
  });
  const chunker = await openChunker(SAMPLE_RATE, options.chunkMs, options.vadModel);
  const pending: Array<
    Promise<{ lines: TranscriptLine[]; heard: { language: string; ms: number; model?: string } }>
  > = [];
  let audioBytes = 0;
  const encoder = options.speakers ? engine.speakerEncoder : undefined;
  let speakers = NO_SPEAKERS;
  // Speakers are told apart in the audio's order: each chunk's turns wait for the chunk before.
  let previous: Promise<unknown> = Promise.resolve();
  const queue = (chunk: Chunk) => {
    if (chunk.pcm.length === 0) return;
    const before = previous;
    // A line per speaker turn of a chunk (one per chunk without speakers), as the Kafka path gives
    // a segment per turn; times from the engine's words.
    const part = transcribeOne(engine, chunk.pcm, SAMPLE_RATE, language ?? null).then(async (transcript) => {
      await before;
      let turns: Array<{ speaker?: string; transcript: Transcript }> = [{ transcript }];
      if (encoder && transcript.text.trim()) {
        const told = await speakerTurns(encoder, speakers, chunk, transcript, options.speakers!);
        speakers = told.speakers;
        turns = told.turns;
      }
      return {
        lines: transcript.text.trim()
          ? turns.map(({ speaker, transcript: turn }) => ({
              startMs: chunk.startMs + (turn.segments[0]?.startMs ?? 0),
              endMs: chunk.startMs + (turn.segments.at(-1)?.endMs ?? chunk.durationMs),
              text: turn.text.trim(),
              ...(speaker ? { speaker } : {}),
            }))
          : [],
        heard: { language: transcript.language, ms: chunk.durationMs, model: transcript.model },
      };
    });
    // Awaited in order below; marked handled now so a failure is not reported before its turn.
    part.catch(() => undefined);
    previous = part.catch(() => undefined);
    pending.push(part);
  };
  // Without a language, chunks wait until their first speech has decided one (stream-language.ts).
  const settings = options.languages && hearableBy(options.languages, (l) => engine.supportsLanguage(l));
  const deciding = !language && engine.identifyLanguage && settings && settings.candidates.length > 1;
  let decision: LanguageDecision | undefined;
  let tally: LanguageTally = EMPTY_TALLY;
  const waiting: Chunk[] = [];
  const decided = (made: LanguageDecision) => {
    decision = made;
    language = made.language;
    options.onLanguage?.(made);
    for (const chunk of waiting.splice(0)) queue(chunk);
  };
  const take = async (chunk: Chunk) => {
    if (!deciding || decision) return queue(chunk);
    waiting.push(chunk);
    if (chunk.pcm.length === 0) return;
    tally = withEvidence(
      tally,
      await engine.identifyLanguage!(chunk.pcm, settings.candidates),
      chunk.durationMs,
    );
    const made = decide(tally, settings);
    if (made) decided(made);
  };
  let settled = 0;
  for await (const data of decoder.pcm as AsyncIterable<Buffer>) {
    audioBytes += data.length;
    for (const chunk of await chunker.push(data)) await take(chunk);
    // A few chunks queued keep the engine busy; more would hold a long file's audio in memory.
    while (pending.length - settled > MAX_QUEUED) await pending[settled++];
    options.onProgress?.(audioBytes / 32);
  }
  await decoder.finished;
  if (audioBytes === 0) throw new AudioInputError(`${source}: no audio in the input`);
  await take(chunker.end());
  // A recording shorter than the decision's time: what its speech says, else the fallback.
  if (deciding && !decision) decided(decide(tally, { ...settings, withinMs: 0 })!);
  const parts = await Promise.all(pending);
  const heard = new Map<string, number>();
  for (const part of parts)
    heard.set(part.heard.language, (heard.get(part.heard.language) ?? 0) + part.heard.ms);
  const mostHeard = [...heard].sort((a, b) => b[1] - a[1])[0]?.[0];
  const spoken = language ?? mostHeard ?? 'und';
  return {
    lines: parts.flatMap((part) => part.lines),
    language: spoken,
    model: parts.find((part) => part.heard.language === spoken)?.heard.model ?? parts[0]?.heard.model,
    ...(decision ? { decision } : {}),
  };
}
