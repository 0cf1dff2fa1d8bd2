/** 16-bit mono PCM: two bytes a sample. */
const BYTES_PER_SAMPLE = 2;
/** Energy is compared over 20 ms frames: shorter than a word, longer than a pitch period. */
const FRAME_MS = 20;

export interface PcmChunk {
  pcm: Buffer;
  /** Stream time of the first sample. */
  startMs: number;
  durationMs: number;
}

/**
 * Cuts a PCM stream into chunks of about `chunkMs`, each cut placed at the quietest 20 ms frame
 * within ±`searchMs` of the target length. Cuts therefore fall in the pauses between words, so
 * each chunk can be transcribed on its own without a word split across two chunks, and without
 * the bookkeeping an overlap would need downstream (which would not survive a stage restart).
 * In speech without any pause a cut can still split a word; the cost is one word, never a
 * duplicated one.
 */
export class AudioChunker {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private startSample = 0;
  private readonly frameBytes: number;
  private readonly minCut: number;
  private readonly maxCut: number;

  constructor(
    private readonly sampleRate: number,
    chunkMs: number,
    searchMs = Math.min(500, chunkMs / 4),
  ) {
    const bytesPerMs = (sampleRate * BYTES_PER_SAMPLE) / 1000;
    this.frameBytes = Math.round(FRAME_MS * bytesPerMs);
    this.minCut = align(Math.round((chunkMs - searchMs) * bytesPerMs));
    this.maxCut = align(Math.round((chunkMs + searchMs) * bytesPerMs));
  }

  /** Adds decoded audio; returns the chunks now complete. */
  push(pcm: Buffer): PcmChunk[] {
    this.pending.push(pcm);
    this.pendingBytes += pcm.length;
    const chunks: PcmChunk[] = [];
    while (this.pendingBytes >= this.maxCut) {
      const buffer = this.take();
      const cut = this.quietestCut(buffer);
      chunks.push(this.emit(buffer.subarray(0, cut)));
      this.keep(buffer.subarray(cut));
    }
    return chunks;
  }

  /** The rest of the audio as the last chunk (possibly empty: the stream ended on a cut). */
  end(): PcmChunk {
    const rest = this.take();
    this.pending = [];
    this.pendingBytes = 0;
    return this.emit(rest.subarray(0, align(rest.length)));
  }

  private take(): Buffer {
    return this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
  }

  private keep(rest: Buffer): void {
    // Copied: the rest would otherwise pin the whole decoded buffer it was cut from.
    this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
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

  /** Byte offset of the middle of the lowest-energy frame between minCut and maxCut. */
  private quietestCut(buffer: Buffer): number {
    let best = this.minCut;
    let bestEnergy = Number.POSITIVE_INFINITY;
    for (let frame = this.minCut; frame + this.frameBytes <= this.maxCut; frame += this.frameBytes) {
      let energy = 0;
      for (let i = frame; i < frame + this.frameBytes; i += BYTES_PER_SAMPLE) {
        const sample = buffer.readInt16LE(i);
        energy += sample * sample;
      }
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
