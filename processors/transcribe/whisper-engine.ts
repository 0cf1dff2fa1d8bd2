import { type AutomaticSpeechRecognitionPipeline, pipeline } from '@huggingface/transformers';
import { type HubModelOptions, locateHubModel } from '../shared/hub-model.js';
import type { AudioInput, Transcript, TranscriptionEngine } from './engine.js';

export interface WhisperEngineOptions extends HubModelOptions {
  /** A Whisper checkpoint converted for transformers.js (e.g. onnx-community/whisper-base) or a local directory. */
  model: string;
  /** transcribe keeps the spoken language; translate turns it into English. */
  task: 'transcribe' | 'translate';
  /** Spoken language when the chunk has no hint; detected by the model when unset. */
  language?: string | undefined;
  device?: 'cpu' | 'cuda';
  dtype?: string;
}

interface AsrOutput {
  text: string;
  chunks?: Array<{ text: string; timestamp: [number, number | null] }>;
}

/**
 * Whisper through transformers.js' automatic-speech-recognition pipeline, on CPU or CUDA. Segments
 * come from Whisper's own timestamps. Whisper gives no per-text probability through this
 * pipeline; confidence is reported as 1 for a non-empty text.
 */
export class WhisperEngine implements TranscriptionEngine {
  readonly name = 'whisper';

  private constructor(
    private readonly recognizer: AutomaticSpeechRecognitionPipeline,
    private readonly options: WhisperEngineOptions,
    readonly model: string,
  ) {}

  static async load(options: WhisperEngineOptions): Promise<WhisperEngine> {
    const { id, where } = locateHubModel(options.model, options);
    try {
      const recognizer = (await pipeline('automatic-speech-recognition', id, {
        dtype: (options.dtype ?? 'fp32') as 'fp32',
        device: options.device ?? 'cpu',
      })) as unknown as AutomaticSpeechRecognitionPipeline;
      return new WhisperEngine(recognizer, options, options.model);
    } catch (error) {
      throw new Error(`cannot load a speech recognition model from ${where}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async transcribe(pcm: Buffer, sampleRate: number, langHint?: string | null): Promise<Transcript> {
    if (sampleRate !== 16_000) throw new Error(`whisper needs 16 kHz audio, got ${sampleRate} Hz`);
    const samples = new Float32Array(pcm.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2) / 32768;
    const language = langHint ?? this.options.language;
    const output = (await this.recognizer(samples, {
      task: this.options.task,
      ...(language ? { language } : {}),
      return_timestamps: true,
    })) as AsrOutput;
    const text = output.text.trim();
    const segments = (output.chunks ?? [])
      .map((chunk) => ({
        startMs: Math.round(chunk.timestamp[0] * 1000),
        endMs: Math.round((chunk.timestamp[1] ?? samples.length / sampleRate) * 1000),
        text: chunk.text.trim(),
      }))
      .filter((segment) => segment.text !== '');
    return {
      text,
      segments,
      language: this.options.task === 'translate' ? 'en' : (language ?? 'und'),
      confidence: text ? 1 : 0,
    };
  }

  async transcribeBatch(inputs: readonly AudioInput[]): Promise<Transcript[]> {
    const transcripts: Transcript[] = [];
    for (const input of inputs)
      transcripts.push(await this.transcribe(input.pcm, input.sampleRate, input.langHint));
    return transcripts;
  }

  async close(): Promise<void> {
    await this.recognizer.dispose();
  }
}
