/** 16-bit mono PCM: two bytes a sample. */
const BYTES_PER_SAMPLE = 2;
/** Energy is compared over 20 ms frames: shorter than a word, longer than a pitch period. */
const FRAME_MS = 20;
/** A pause this long after speech ends an utterance. */
const PAUSE_MS = 300;
/** Chunks shorter than this are not cut at a pause (a breath inside a sentence). */
const MIN_CHUNK_MS = 1000;
/** A frame is quiet below this share of the loudest frame of its chunk, or below an absolute floor. */
const QUIET_SHARE = 0.1;
const QUIET_FLOOR = 0.003;

export interface PcmChunk {
  pcm: Buffer;
  /** Stream time of the first sample. */
  startMs: number;
  durationMs: number;
}

/**
 * Cuts a PCM stream into chunks at voice-activity boundaries, so each chunk can be transcribed on
 * its own without a word split across two chunks, and without the bookkeeping an overlap would
 * need downstream (which would not survive a stage restart):
 *
 * - as soon as speech is followed by a pause of 300 ms (and the chunk holds at least 1 s), the
 *   chunk ends in the middle of that pause: a sentence is sent the moment it ends, which keeps
 *   live latency low;
 * - speech that runs on without such a pause is cut at the quietest 20 ms frame within ±`searchMs`
 *   of `chunkMs`. In speech without any pause a cut can still split a word; the cost is one word
 *   misheard, never one duplicated or dropped whole.
 */
export class AudioChunker {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private startSample = 0;
  private readonly frameBytes: number;
  private readonly minCut: number;
  private readonly maxCut: number;
  private readonly minChunk: number;
  private readonly pauseFrames: number;
  /** Frames of the pending audio already measured, their levels, and the loudest. */
  private levels: number[] = [];
  private loudest = 0;

  constructor(
    private readonly sampleRate: number,
    chunkMs: number,
    searchMs = Math.min(500, chunkMs / 4),
  ) {
    const bytesPerMs = (sampleRate * BYTES_PER_SAMPLE) / 1000;
    this.frameBytes = Math.round(FRAME_MS * bytesPerMs);
    this.minCut = align(Math.round((chunkMs - searchMs) * bytesPerMs));
    this.maxCut = align(Math.round((chunkMs + searchMs) * bytesPerMs));
    this.minChunk = Math.min(this.minCut, align(Math.round(MIN_CHUNK_MS * bytesPerMs)));
    this.pauseFrames = Math.round(PAUSE_MS / FRAME_MS);
  }

  /** Adds decoded audio; returns the chunks now complete. */
  push(pcm: Buffer): PcmChunk[] {
    this.pending.push(pcm);
    this.pendingBytes += pcm.length;
    const chunks: PcmChunk[] = [];
    for (;;) {
      const buffer = this.take();
      const cut =
        this.pauseCut(buffer) ?? (this.pendingBytes >= this.maxCut ? this.quietestCut(buffer) : undefined);
      if (cut === undefined) break;
      chunks.push(this.emit(buffer.subarray(0, cut)));
      this.keep(buffer.subarray(cut));
    }
    return chunks;
  }

  /** The rest of the audio as the last chunk (possibly empty: the stream ended on a cut). */
  end(): PcmChunk {
    const rest = this.take();
    this.keep(Buffer.alloc(0));
    return this.emit(rest.subarray(0, align(rest.length)));
  }

  private take(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
    return this.pending[0] ?? Buffer.alloc(0);
  }

  private keep(rest: Buffer): void {
    // Copied: the rest would otherwise pin the whole decoded buffer it was cut from.
    this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
    this.levels = [];
    this.loudest = 0;
  }

  private emit(pcm: Buffer): PcmChunk {
    const samples = pcm.length / BYTES_PER_SAMPLE;
    const chunk = {
      pcm,
      startMs: Math.round((this.startSample * 1000) / this.sampleRate),
      durationMs: Math.round((samples * 1000) / this.sampleRate),
    };
    this.startSample += samples;
    return chunk;
  }

  /** Where a pause after speech ends the chunk, if one has been heard; measures new frames as it goes. */
  private pauseCut(buffer: Buffer): number | undefined {
    // Only up to the longest chunk: past it, the quietest-frame cut applies.
    const end = Math.min(buffer.length, this.maxCut);
    for (let frame = this.levels.length; (frame + 1) * this.frameBytes <= end; frame++) {
      const level = frameLevel(buffer, frame * this.frameBytes, this.frameBytes);
      this.levels.push(level);
      this.loudest = Math.max(this.loudest, level);
      const pauseStart = frame + 1 - this.pauseFrames;
      if (pauseStart * this.frameBytes < this.minChunk || this.loudest < QUIET_FLOOR * 3) continue;
      const quiet = Math.max(QUIET_FLOOR, QUIET_SHARE * this.loudest);
      let paused = true;
      for (let i = pauseStart; i <= frame && paused; i++) paused = this.levels[i]! < quiet;
      // Speech before the pause, not a stretch of silence that merely continues.
      if (paused && this.levels.slice(0, pauseStart).some((l) => l >= quiet)) {
        return align(Math.round((pauseStart + this.pauseFrames / 2) * this.frameBytes));
      }
    }
    return undefined;
  }

  /** Byte offset of the middle of the lowest-energy frame between minCut and maxCut. */
  private quietestCut(buffer: Buffer): number {
    let best = this.minCut;
    let bestEnergy = Number.POSITIVE_INFINITY;
    for (let frame = this.minCut; frame + this.frameBytes <= this.maxCut; frame += this.frameBytes) {
      const energy = frameLevel(buffer, frame, this.frameBytes);
      if (energy < bestEnergy) {
        bestEnergy = energy;
        best = frame + this.frameBytes / 2;
      }
    }
    return align(best);
  }
}

function align(bytes: number): number {
  return bytes - (bytes % BYTES_PER_SAMPLE);
}

/** RMS level in [0, 1] of one frame. */
export function frameLevel(buffer: Buffer, offset: number, bytes: number): number {
  let sum = 0;
  for (let i = offset; i < offset + bytes; i += BYTES_PER_SAMPLE) {
    const sample = buffer.readInt16LE(i) / 32768;
    sum += sample * sample;
  }
  return Math.sqrt(sum / (bytes / BYTES_PER_SAMPLE));
}
