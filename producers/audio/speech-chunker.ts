import { findAsrRuntime } from '../../processors/transcribe/asr-runtime.js';
import type { TranscribeConfig } from '../../processors/transcribe/config.js';
import { AudioChunker, type PcmChunk } from './audio-chunker.js';
import type { AudioConfig } from './config.js';
import { SileroVad } from './silero-vad.js';
import { VadChunker } from './vad-chunker.js';

/** Cuts a stream's PCM into chunks the transcribe stage takes one by one. */
export interface SpeechChunker {
  push(pcm: Buffer): Promise<PcmChunk[]>;
  end(): PcmChunk;
}

/**
 * The silero VAD model the audio producers use, or undefined for the energy chunker. `AUDIO_VAD`
 * auto takes the model faster-whisper's runtime installed (deploy/local/install-asr.sh) where it
 * is; `silero` requires it; `energy` keeps the older level-threshold chunker.
 */
export function vadModelOf(config: {
  audio: AudioConfig;
  transcribe: Pick<TranscribeConfig, 'asrRuntimeDir'>;
}): string | undefined {
  const { vad, vadModel } = config.audio;
  if (vad === 'energy') return undefined;
  if (vadModel) return vadModel;
  const runtime = findAsrRuntime(config.transcribe.asrRuntimeDir);
  if ('missing' in runtime) {
    if (vad === 'silero') throw new Error(`AUDIO_VAD=silero: ${runtime.missing}, or set AUDIO_VAD_MODEL`);
    return undefined;
  }
  return runtime.vadModel;
}

/** One stream's chunker: silero VAD at 16 kHz when a model is given, else the energy chunker. */
export async function openChunker(
  sampleRate: number,
  chunkMs: number,
  vadModel: string | undefined,
): Promise<SpeechChunker> {
  if (vadModel && sampleRate === 16_000) return new VadChunker(await SileroVad.load(vadModel), chunkMs);
  const energy = new AudioChunker(sampleRate, chunkMs);
  return { push: async (pcm) => energy.push(pcm), end: () => energy.end() };
}
