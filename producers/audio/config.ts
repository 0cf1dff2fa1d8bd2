import type { EnvReader } from '../../runtime/config/index.js';

/** How audio producers cut and watch their input (see producers/audio). */
export interface AudioConfig {
  chunkMs: number;
  /** How chunks are cut: silero VAD (auto: where installed) or energy levels. */
  vad: 'auto' | 'silero' | 'energy';
  /** silero VAD's ONNX file; the one faster-whisper's runtime bundles when unset. */
  vadModel: string | undefined;
  /** A live input that delivers nothing for this long fails. */
  stallTimeoutMs: number;
}

/** The audio producers' settings (AUDIO_*), validated by the one loader (cli/config.ts). */
export function readAudioConfig(read: EnvReader): AudioConfig {
  return {
    // Speech without a pause is cut at this length. Whisper hears better with a sentence's
    // context: tiny.en's WER on LibriVox is 0.141 cut at 3 s, 0.085 at 5 s, 0.056 at 8 s (bench audio).
    chunkMs: read.int('AUDIO_CHUNK_MS', 8000, { min: 500, max: 30_000 }),
    vad: read.oneOf('AUDIO_VAD', ['auto', 'silero', 'energy'] as const, 'auto'),
    vadModel: read.optionalString('AUDIO_VAD_MODEL'),
    stallTimeoutMs: read.int('AUDIO_STALL_TIMEOUT_MS', 30_000, { min: 1000 }),
  };
}
