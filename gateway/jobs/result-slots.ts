import { type FileHandle, open } from 'node:fs/promises';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import type { EmotionResult } from '../../schemas/index.js';

/**
 * A CSV job's results on disk, one fixed-size slot per row position, so results arriving in any
 * order can be read back in the file's order without holding them in memory (issue 19: a job of a
 * million rows still runs in constant memory). A slot holds what the results file prints: scores
 * as the 4-decimal numbers it shows (exactly, as integers), labels as bits, and the language and
 * model as indices into small tables (a job sees a handful of each).
 */
export interface SlotResult {
  language: string;
  languageFallback: boolean;
  modelName: string;
  modelVersion: string;
  topLabel: (typeof CORE_EMOTIONS)[number];
  labels: Array<(typeof CORE_EMOTIONS)[number]>;
  /** The core scores ×10⁴ as printed (null: a class the model lacks). */
  core: Array<number | null>;
  /** Polarity and intensity ×10⁴, or null on results without sentiment. */
  sentiment: { polarity: number; intensity: number } | null;
}

const SLOT_BYTES = 48;
const ABSENT = -2_147_483_648;
const FLAG_FALLBACK = 1;
const FLAG_SENTIMENT = 2;

/** A score as the results file prints it (4 decimals), as an exact integer. */
export function fixed4(value: number): number {
  return Math.round(Number(value.toFixed(4)) * 10_000);
}

/** An integer from fixed4() printed back with its 4 decimals. */
export function printFixed4(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 10_000)}.${String(abs % 10_000).padStart(4, '0')}`;
}

/** Strings seen by one job (languages; model name + version), each stored once by index. */
class StringTable {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];

  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      if (this.values.length >= 0xffff) throw new Error('more than 65,535 distinct values in one job');
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

export class ResultSlots {
  private readonly languages = new StringTable();
  private readonly models = new StringTable();

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<ResultSlots> {
    return new ResultSlots(await open(path, 'w+'));
  }

  /** Stores a row's result in its slot. */
  async write(row: number, result: EmotionResult): Promise<void> {
    const slot = Buffer.alloc(SLOT_BYTES);
    slot[0] = 1;
    slot.writeUInt16LE(this.languages.of(result.language), 1);
    slot.writeUInt16LE(this.models.of(`${result.model.name}\n${result.model.version}`), 3);
    slot[5] = CORE_EMOTIONS.indexOf(result.topLabel);
    slot[6] = result.labels.reduce((bits, label) => bits | (1 << CORE_EMOTIONS.indexOf(label)), 0);
    slot[7] = (result.languageFallback ? FLAG_FALLBACK : 0) | (result.sentiment ? FLAG_SENTIMENT : 0);
    CORE_EMOTIONS.forEach((emotion, i) => {
      const score = result.core[emotion];
      slot.writeInt32LE(score === null || score === undefined ? ABSENT : fixed4(score), 8 + 4 * i);
    });
    slot.writeInt32LE(result.sentiment ? fixed4(result.sentiment.polarity) : 0, 36);
    slot.writeInt32LE(result.sentiment ? fixed4(result.sentiment.intensity) : 0, 40);
    await this.file.write(slot, 0, SLOT_BYTES, row * SLOT_BYTES);
  }

  /**
   * The slots of rows 0, 1, 2, … in order, read a block at a time; null for a row without a result
   * (yet), also past the last slot written. The caller stops when its rows end.
   */
  async *inOrder(): AsyncGenerator<SlotResult | null, void, void> {
    const perBlock = 4096;
    const block = Buffer.alloc(perBlock * SLOT_BYTES);
    for (let first = 0; ; first += perBlock) {
      block.fill(0);
      await this.file.read(block, 0, block.length, first * SLOT_BYTES);
      for (let k = 0; k < perBlock; k++)
        yield this.decode(block.subarray(k * SLOT_BYTES, (k + 1) * SLOT_BYTES));
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private decode(slot: Buffer): SlotResult | null {
    if (slot[0] !== 1) return null;
    const [modelName = '', modelVersion = ''] = this.models.values[slot.readUInt16LE(3)]!.split('\n');
    const bits = slot[6]!;
    const flags = slot[7]!;
    return {
      language: this.languages.values[slot.readUInt16LE(1)]!,
      languageFallback: (flags & FLAG_FALLBACK) !== 0,
      modelName,
      modelVersion,
      topLabel: CORE_EMOTIONS[slot[5]!]!,
      labels: CORE_EMOTIONS.filter((_, i) => bits & (1 << i)),
      core: CORE_EMOTIONS.map((_, i) => {
        const value = slot.readInt32LE(8 + 4 * i);
        return value === ABSENT ? null : value;
      }),
      sentiment:
        flags & FLAG_SENTIMENT ? { polarity: slot.readInt32LE(36), intensity: slot.readInt32LE(40) } : null,
    };
  }
}
