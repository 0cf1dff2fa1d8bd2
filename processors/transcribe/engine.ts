import type { Engine, NoContext } from '../../runtime/engine.js';
import type { LanguageEvidence } from './language-evidence.js';

/** One piece of recognised speech, in milliseconds from the start of the audio given. */
export interface TranscriptSegment {
  startMs: number;
  endMs: number;
  text: string;
}

export interface Transcript {
  /** The whole text; empty for silence or noise. */
  text: string;
  segments: TranscriptSegment[];
  /** ISO 639-1 code of the speech. */
  language: string;
  /** In [0, 1]; how much the engine trusts the text (engines differ in how they measure it). */
  confidence: number;
  /** The model that heard it, where an engine holds several (a model per language). */
  model?: string;
}

export interface AudioInput {
  /** 16-bit little-endian mono PCM. */
  pcm: Buffer;
  sampleRate: number;
  /** ISO 639-1 code of the speech when the producer knows it. */
  langHint?: string | null;
}

/**
 * A speech recogniser (runtime/engine.ts has the contract): a batch of chunks, each with its own
 * rate and language hint, so an engine shares its start-up cost (loading a model, starting a
 * process) over the chunks of one stage batch.
 */
export interface TranscriptionEngine extends Engine<AudioInput, Transcript, NoContext> {
  /** The model, as reported in each segment's AsrInfo. */
  readonly model: string;
  /**
   * Whether the engine can hear speech in this language (ISO 639-1). The stage asks before it
   * transcribes a chunk with a language hint: an English-only model given Romanian would only
   * produce English-sounding gibberish.
   */
  supportsLanguage(language: string): boolean;
  /**
   * How much a chunk sounds like each candidate language (a multilingual Whisper); absent where
   * the engine cannot tell languages apart (tiny.en alone, pocketsphinx).
   */
  identifyLanguage?(
    pcm: Buffer,
    candidates: readonly string[],
    options?: IdentifyOptions,
  ): Promise<LanguageEvidence>;
  /** Voice embeddings for telling speakers apart; absent where the engine has no voice encoder. */
  readonly speakerEncoder?: SpeakerEncoder | undefined;
}

/** A voice encoder: one embedding (a unit vector; same voice, high cosine) per span of a chunk. */
export interface SpeakerEncoder {
  /** `spans` in ms from the chunk's start; an embedding each, in the same order. */
  embed(pcm: Buffer, spans: ReadonlyArray<readonly [number, number]>): Promise<number[][]>;
}

export interface IdentifyOptions {
  /** Whisper's language token alone, no trial decodes (cheap; `decisive` says whether it settles it). */
  trials?: boolean;
}

/** One chunk through an engine's batch contract (the CLI and the benchmarks transcribe one at a time). */
export async function transcribeOne(
  engine: TranscriptionEngine,
  pcm: Buffer,
  sampleRate: number,
  langHint: string | null = null,
): Promise<Transcript> {
  const [transcript] = await engine.run([{ pcm, sampleRate, langHint }], {});
  return transcript!;
}

export const EMPTY_TRANSCRIPT = (language: string): Transcript => ({
  text: '',
  segments: [],
  language,
  confidence: 0,
});

/**
 * Why `engine` will not transcribe speech in `language` (ISO 639-1), in one line; the same words
 * for the stage's warning event and the CLI's error.
 */
export function unsupportedLanguage(engine: TranscriptionEngine, language: string): string {
  return `${engine.name} model ${engine.model} cannot transcribe language '${language}' (give it a multilingual model: WHISPER_MODELS=${language}=base, or WHISPER_MODEL=large-v3 for every language)`;
}
