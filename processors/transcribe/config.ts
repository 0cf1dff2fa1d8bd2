import { ConfigError, type EnvReader, EXECUTION_PROVIDERS } from '../../runtime/config/index.js';
import type { LanguageDecisionSettings } from './stream-language.js';
import type { SpeakerSettings } from './stream-speakers.js';

/** `auto`: faster-whisper where its runtime is installed, else pocketsphinx (said at start-up). */
export const TRANSCRIBE_ENGINES = ['auto', 'faster-whisper', 'pocketsphinx'] as const;

/** The transcribe stage's engine (see processors/transcribe). */
export interface TranscribeConfig {
  engine: (typeof TRANSCRIBE_ENGINES)[number];
  pocketsphinxModelDir: string;
  /** Where deploy/local/install-asr.sh put faster-whisper's venv and runtime.json. */
  asrRuntimeDir: string | undefined;
  whisper: {
    /**
     * One CTranslate2 Whisper directory or model id for every language (a large multilingual model on
     * a GPU pool); when set, WHISPER_MODELS is not used.
     */
    model: string | undefined;
    /**
     * Otherwise a model per spoken language, `*` for every other one (WHISPER_MODELS, default
     * `en=tiny.en,*=base`): names of the models install-asr.sh installed (tiny.en, base), model ids
     * faster-whisper downloads, or directories.
     */
    models: Record<string, string>;
    /** Spoken language for chunks without a hint; multilingual models detect it when unset. */
    language: string | undefined;
    /** int8 on CPU, float16 on CUDA unless set. */
    computeType: string;
    threads: number;
    beamSize: number;
    downloadDir: string | undefined;
    allowDownload: boolean;
    timeoutMs: number;
  };
  executionProvider: (typeof EXECUTION_PROVIDERS)[number];
  /** Chunks quieter than this RMS level (0–1) are silence and are not transcribed. */
  silenceLevel: number;
  /**
   * How a stream without a language hint gets its language (TRANSCRIBE_LANGUAGES, TRANSCRIBE_LANGUAGE_*): one
   * candidate means that language for every such stream, no detection.
   */
  languageDecision: LanguageDecisionSettings;
  /**
   * Speaker turns (TRANSCRIBE_SPEAKERS*): on where the voice encoder is installed (install-asr.sh);
   * off leaves every segment's speaker null.
   */
  speakers: SpeakerSettings & { enabled: boolean };
}

/** The transcribe stage's settings (TRANSCRIBE_*, WHISPER_*, …), validated by the one loader (cli/config.ts). */
export function readTranscribeConfig(read: EnvReader): TranscribeConfig {
  const executionProvider = read.oneOf('TRANSCRIBE_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, 'cpu');
  return {
    engine: read.oneOf('TRANSCRIBE_ENGINE', TRANSCRIBE_ENGINES, 'auto'),
    pocketsphinxModelDir: read.string('POCKETSPHINX_MODEL_DIR', '/usr/share/pocketsphinx/model/en-us'),
    asrRuntimeDir: read.optionalString('ASR_RUNTIME_DIR'),
    whisper: {
      model: read.optionalString('WHISPER_MODEL'),
      models: whisperModels(read),
      language: read.optionalLanguage('WHISPER_LANGUAGE'),
      computeType: read.oneOf(
        'WHISPER_COMPUTE_TYPE',
        ['int8', 'int8_float16', 'int8_float32', 'float16', 'bfloat16', 'float32'] as const,
        executionProvider === 'cuda' ? 'float16' : 'int8',
      ),
      threads: read.int('WHISPER_CPU_THREADS', 1, { min: 0, max: 256 }),
      beamSize: read.int('WHISPER_BEAM_SIZE', 1, { min: 1, max: 20 }),
      downloadDir: read.optionalString('WHISPER_DOWNLOAD_DIR'),
      allowDownload: read.bool('WHISPER_ALLOW_DOWNLOAD', true),
      timeoutMs: read.int('WHISPER_TIMEOUT_MS', 120_000, { min: 1000 }),
    },
    executionProvider,
    silenceLevel: read.int('TRANSCRIBE_SILENCE_LEVEL_PERMILLE', 3, { min: 0, max: 1000 }) / 1000,
    languageDecision: languageDecision(read),
    speakers: {
      enabled: read.bool('TRANSCRIBE_SPEAKERS', true),
      maxSpeakers: read.int('TRANSCRIBE_SPEAKERS_MAX', DEFAULT_MAX_SPEAKERS, { min: 1, max: 32 }),
      similarity:
        read.int('TRANSCRIBE_SPEAKER_SIMILARITY_PERCENT', DEFAULT_SPEAKER_SIMILARITY_PERCENT, {
          min: 0,
          max: 100,
        }) / 100,
    },
  };
}

/** Calls, interviews and panels: a stream past four voices is rare, and each one more is a chance to split one. */
export const DEFAULT_MAX_SPEAKERS = 4;
/**
 * Cosine similarity of a piece's voice embedding to a speaker's centroid at which it joins that
 * speaker. bench/speakers.ts swept 0.60–0.90 (bench/RESULTS.md, "Speaker turns"): espeak voices
 * merge below 0.75 and split above 0.85; 0.78 also stays under what a LibriVox reader's own clips
 * score against their centroid (0.90–0.97), where real voices vary more than synthetic ones.
 */
export const DEFAULT_SPEAKER_SIMILARITY_PERCENT = 78;

/** The embedded default: the prototype's two languages. */
export const DEFAULT_TRANSCRIBE_LANGUAGES = 'en,ro';

function languageDecision(read: EnvReader): LanguageDecisionSettings {
  // WHISPER_LANGUAGE, where set, is every unhinted stream's language: nothing to decide.
  const assumed = read.optionalLanguage('WHISPER_LANGUAGE');
  const candidates = assumed
    ? [assumed]
    : [...new Set(read.languages('TRANSCRIBE_LANGUAGES', DEFAULT_TRANSCRIBE_LANGUAGES))];
  if (candidates.length === 0)
    throw new ConfigError('TRANSCRIBE_LANGUAGES', 'must name at least one language');
  return {
    candidates,
    confidence: read.int('TRANSCRIBE_LANGUAGE_CONFIDENCE_PERCENT', 80, { min: 50, max: 100 }) / 100,
    withinMs: read.int('TRANSCRIBE_LANGUAGE_DECIDE_WITHIN_MS', 10_000, { min: 1000, max: 600_000 }),
  };
}

/** The embedded defaults: tiny.en for English (LibriVox WER 0.056), multilingual base for the rest. */
export const DEFAULT_WHISPER_MODELS = 'en=tiny.en,*=base';

function whisperModels(read: EnvReader): Record<string, string> {
  const name = 'WHISPER_MODELS';
  const models = read.pairs(name, /^([a-z]{2}|\*)$/, 'language=model (`*` for every other language)');
  if (!models) {
    return Object.fromEntries(
      DEFAULT_WHISPER_MODELS.split(',').map((pair) => pair.split('=') as [string, string]),
    );
  }
  return models;
}
