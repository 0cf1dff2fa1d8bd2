import * as ort from 'onnxruntime-node';

/** Silero VAD decides on 512-sample windows of 16 kHz audio (32 ms)... */
export const VAD_WINDOW_SAMPLES = 512;
/** ...each seen with the 64 samples before it, as the model was trained. */
const CONTEXT_SAMPLES = 64;
const STATE_SIZE = 128;

/**
 * Silero VAD v6, the ONNX file faster-whisper bundles, run with onnxruntime-node: the probability
 * that each 32 ms window of a 16 kHz stream is speech. Stateful: windows must come in stream order,
 * and one instance serves one stream. The batched model takes any number of windows per call with
 * the recurrent state carried between calls; a stream fed in pieces gets exactly the probabilities
 * it would get in one call (checked against faster-whisper's own batched use of the same file).
 */
export class SileroVad {
  private h: Float32Array = new Float32Array(STATE_SIZE);
  private c: Float32Array = new Float32Array(STATE_SIZE);
  private context = new Float32Array(CONTEXT_SAMPLES);

  private constructor(private readonly session: ort.InferenceSession) {}

  /** A detector for one stream; the model itself is loaded once per process and shared. */
  static async load(modelPath: string): Promise<SileroVad> {
    let session = sessions.get(modelPath);
    if (!session) {
      session = ort.InferenceSession.create(modelPath, {
        // One thread: a live stream's windows are small and many streams run side by side.
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        logSeverityLevel: 3,
      });
      sessions.set(modelPath, session);
      session.catch(() => sessions.delete(modelPath));
    }
    try {
      return new SileroVad(await session);
    } catch (error) {
      throw new Error(`cannot load the silero VAD model ${modelPath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Speech probability of each window of `pcm` (16-bit mono, a whole number of windows). */
  async probabilities(pcm: Buffer): Promise<Float32Array> {
    const windows = pcm.length / 2 / VAD_WINDOW_SAMPLES;
    if (windows === 0) return new Float32Array(0);
    const row = CONTEXT_SAMPLES + VAD_WINDOW_SAMPLES;
    const input = new Float32Array(windows * row);
    for (let w = 0; w < windows; w++) {
      const base = w * row;
      input.set(this.context, base);
      for (let i = 0; i < VAD_WINDOW_SAMPLES; i++) {
        input[base + CONTEXT_SAMPLES + i] = pcm.readInt16LE((w * VAD_WINDOW_SAMPLES + i) * 2) / 32768;
      }
      this.context = input.slice(base + row - CONTEXT_SAMPLES, base + row);
    }
    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [windows, row]),
      h: new ort.Tensor('float32', Float32Array.from(this.h), [1, 1, STATE_SIZE]),
      c: new ort.Tensor('float32', Float32Array.from(this.c), [1, 1, STATE_SIZE]),
    });
    this.h = out.hn!.data as Float32Array;
    this.c = out.cn!.data as Float32Array;
    return out.speech_probs!.data as Float32Array;
  }
}

/** Loaded models by path: one session serves every stream (each detector keeps its own state). */
const sessions = new Map<string, Promise<ort.InferenceSession>>();
