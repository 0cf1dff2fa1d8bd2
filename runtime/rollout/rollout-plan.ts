import { ROLLOUT_COLORS, type RolloutColor } from '../config/index.js';

/** Percent of keys per colour; the two add up to 100. */
export type RolloutWeights = Record<RolloutColor, number>;

/** Weights that apply to records whose timestamp is at or after `fromMs`. */
export interface RolloutChange {
  fromMs: number;
  weights: RolloutWeights;
  /** When and by whom the change was made, for the record. */
  setAtMs: number;
  note?: string;
}

/**
 * How a stage's records are shared between its blue and green deployments, as a history of
 * weight changes. Each record is decided by its key (stable hash) and its timestamp (the change in
 * force then), so every deployment that reads the same plan decides every record the same way:
 * each record is processed by exactly one colour, also while the weights change.
 */
export interface RolloutPlan {
  stage: string;
  /** A change may only take effect this long after it is written (see RolloutPlanSource). */
  graceMs: number;
  changes: RolloutChange[];
}

/** Before any change, blue takes everything. */
export const INITIAL_WEIGHTS: RolloutWeights = { blue: 100, green: 0 };

/** 0–99 from a key, the same in every process and release (FNV-1a, 32 bit). */
export function keyBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 100;
}

export function weightsAt(plan: RolloutPlan | undefined, timestampMs: number): RolloutWeights {
  let weights = INITIAL_WEIGHTS;
  for (const change of plan?.changes ?? []) {
    if (change.fromMs <= timestampMs) weights = change.weights;
  }
  return weights;
}

/** The colour that owns a record: buckets below blue's weight are blue's, the rest green's. */
export function colorOf(plan: RolloutPlan | undefined, key: string, timestampMs: number): RolloutColor {
  return keyBucket(key) < weightsAt(plan, timestampMs).blue ? 'blue' : 'green';
}

export class RolloutWeightsError extends Error {
  override readonly name = 'RolloutWeightsError';
}

/** `blue=80 green=20` (or `blue=80,green=20`) → weights; they must add up to 100. */
export function parseWeights(text: string): RolloutWeights {
  const weights: Partial<RolloutWeights> = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const match = /^(blue|green)=(\d{1,3})$/.exec(part);
    if (!match) throw new RolloutWeightsError(`'${part}' is not colour=percent (blue=80 green=20)`);
    weights[match[1] as RolloutColor] = Number(match[2]);
  }
  const missing = ROLLOUT_COLORS.filter((color) => weights[color] === undefined);
  if (missing.length === 1)
    weights[missing[0]!] = 100 - weights[ROLLOUT_COLORS.find((c) => c !== missing[0])!]!;
  if (missing.length === 2) throw new RolloutWeightsError('give the weight of blue, green or both');
  const total = (weights.blue ?? 0) + (weights.green ?? 0);
  if (total !== 100 || weights.blue! < 0 || weights.green! < 0) {
    throw new RolloutWeightsError(`blue and green must add up to 100 (got ${total})`);
  }
  return weights as RolloutWeights;
}
