import { frameLevel, type PcmChunk } from './audio-chunker.js';
import { type SileroVad, VAD_WINDOW_SAMPLES } from './silero-vad.js';

const WINDOW_BYTES = VAD_WINDOW_SAMPLES * 2;
const WINDOW_MS = (VAD_WINDOW_SAMPLES * 1000) / 16_000;
const windows = (ms: number) => Math.round(ms / WINDOW_MS);

/** A window is speech from this probability on (silero's own default)... */
const SPEECH_ON = 0.5;
/** ...and stays speech while above this one (hysteresis: silero's neg_threshold, 0.15 below). */
const SPEECH_OFF = 0.35;
/** A pause this long after speech ends an utterance: the same 300 ms as the energy chunker, so live lag stays. */
const PAUSE_WINDOWS = windows(300);
/** Utterances shorter than this are not cut at a short pause (a breath inside a sentence)... */
const MIN_CHUNK_WINDOWS = windows(1000);
/** ...unless the pause is this long: a short answer ("Yes.") then silence is an utterance of its own. */
const LONG_PAUSE_WINDOWS = windows(700);
/** Audio kept before the first speech window: Whisper hears a word's onset better with a lead-in. */
const LEAD_WINDOWS = windows(200);
/** A chunk with less speech than this (a click, a cough) is not sent. */
const MIN_SPEECH_WINDOWS = windows(200);

/**
 * Cuts a 16 kHz PCM stream into utterances with silero VAD (a neural voice-activity model), so
 * only speech reaches the transcribe stage: music, noise and silence between utterances are dropped
 * here instead of being transcribed (Whisper invents words for them). Each chunk keeps its place in
 * stream time, so results still line up with the audio.
 *
 * - An utterance ends 150 ms into a pause of 300 ms after speech (700 ms for one under 1 s), as
 *   soon as the pause is heard, which keeps live latency where the energy chunker had it.
 * - Speech that runs on past `chunkMs` + `searchMs` is cut at its quietest window within
 *   ±`searchMs` of `chunkMs`.
 * - Audio before an utterance is dropped but for 200 ms of lead-in.
 */
export class VadChunker {
  /** Audio from `startSample` on, not yet sent or dropped. */
  private pending: Buffer = Buffer.alloc(0);
  private startSample = 0;
  /** Per whole window of `pending`: the hysteresis decision on its speech probability. */
  private speech: boolean[] = [];
  private readonly minCut: number;
  private readonly maxCut: number;

  constructor(
    private readonly vad: SileroVad,
    chunkMs: number,
    searchMs = Math.min(500, chunkMs / 4),
  ) {
    this.minCut = Math.max(1, windows(chunkMs - searchMs));
    this.maxCut = Math.max(this.minCut + 1, windows(chunkMs + searchMs));
  }

  /** Adds decoded audio; returns the utterances now complete. */
  async push(pcm: Buffer): Promise<PcmChunk[]> {
    this.pending = this.pending.length ? Buffer.concat([this.pending, pcm]) : Buffer.from(pcm);
    const whole = Math.floor(this.pending.length / WINDOW_BYTES);
    if (whole > this.speech.length) {
      const fresh = await this.vad.probabilities(
        this.pending.subarray(this.speech.length * WINDOW_BYTES, whole * WINDOW_BYTES),
      );
      for (const p of fresh) {
        const before = this.speech.at(-1) ?? false;
        this.speech.push(p >= SPEECH_ON || (before && p >= SPEECH_OFF));
      }
    }
    const chunks: PcmChunk[] = [];
    for (;;) {
      const cut = this.nextCut();
      if (cut === undefined) break;
      if (cut.send) chunks.push(this.chunkOf(cut.windows));
      this.drop(cut.windows);
    }
    return chunks;
  }

  /** The rest of the stream as the last chunk: its audio if it holds speech, else empty at its end. */
  end(): PcmChunk {
    const spoken = this.speech.filter(Boolean).length >= MIN_SPEECH_WINDOWS;
    const startMs = Math.round((this.startSample * 1000) / 16_000);
    this.startSample += this.pending.length / 2;
    // Whole samples only: a pipe may hand over a block that ends inside one.
    const pcm = spoken
      ? this.pending.subarray(0, this.pending.length - (this.pending.length % 2))
      : Buffer.alloc(0);
    this.pending = Buffer.alloc(0);
    this.speech = [];
    return spoken
      ? { pcm, startMs, durationMs: Math.round((pcm.length / 2 / 16_000) * 1000) }
      : { pcm, startMs: Math.round((this.startSample * 1000) / 16_000), durationMs: 0 };
  }

  /** What to do with the front of `pending`: send or drop its first `windows` windows, or wait. */
  private nextCut(): { windows: number; send: boolean } | undefined {
    const first = this.speech.indexOf(true);
    if (first < 0) {
      // No speech yet: keep only the lead-in.
      const surplus = this.speech.length - LEAD_WINDOWS;
      return surplus > 0 ? { windows: surplus, send: false } : undefined;
    }
    if (first > LEAD_WINDOWS) return { windows: first - LEAD_WINDOWS, send: false };
    let lastSpeech = first;
    for (let i = first + 1; i < this.speech.length && i < this.maxCut; i++) {
      if (this.speech[i]) {
        lastSpeech = i;
        continue;
      }
      const pause = i - lastSpeech;
      if (pause >= PAUSE_WINDOWS && (lastSpeech + 1 >= MIN_CHUNK_WINDOWS || pause >= LONG_PAUSE_WINDOWS)) {
        const end = lastSpeech + 1 + Math.floor(PAUSE_WINDOWS / 2);
        return { windows: end, send: this.spokenWindows(end) >= MIN_SPEECH_WINDOWS };
      }
    }
    if (this.speech.length < this.maxCut) return undefined;
    // Speech without a pause: cut after the quietest window near the target length. In running
    // speech silero says ~0.98 everywhere, so its probability cannot find the gap between two
    // words; the signal's energy can.
    let best = this.minCut;
    let bestLevel = Number.POSITIVE_INFINITY;
    for (let i = this.minCut; i < this.maxCut; i++) {
      const level = frameLevel(this.pending, i * WINDOW_BYTES, WINDOW_BYTES);
      if (level < bestLevel) {
        bestLevel = level;
        best = i;
      }
    }
    // Cut in the middle of that window, on a window boundary: after it.
    return { windows: best + 1, send: true };
  }

  private spokenWindows(end: number): number {
    let count = 0;
    for (let i = 0; i < end; i++) if (this.speech[i]) count++;
    return count;
  }

  private chunkOf(count: number): PcmChunk {
    return {
      // Copied: a view would pin the whole pending buffer it was cut from.
      pcm: Buffer.from(this.pending.subarray(0, count * WINDOW_BYTES)),
      startMs: Math.round((this.startSample * 1000) / 16_000),
      durationMs: Math.round(count * WINDOW_MS),
    };
  }

  private drop(count: number): void {
    this.pending = this.pending.subarray(count * WINDOW_BYTES);
    this.startSample += count * VAD_WINDOW_SAMPLES;
    this.speech = this.speech.slice(count);
  }
}
