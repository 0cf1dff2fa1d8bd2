import type { EmotionResult } from '../../schemas/index.js';
import { CORE_EMOTIONS } from './labels.js';

export interface ClassComparison {
  /** Top label of the serving result. */
  serving: number;
  /** Top label of the shadow result. */
  shadow: number;
  /** Both chose this class. */
  agreed: number;
}

export interface ShadowComparison {
  /** Segments with a result on both sides. */
  pairs: number;
  servingOnly: number;
  shadowOnly: number;
  /** Share of pairs with the same top label. */
  agreement: number;
  /** Mean over pairs of the mean absolute difference of the 7 core scores. */
  meanScoreDifference: number;
  perClass: Record<string, ClassComparison>;
  /** Most frequent (serving → shadow) disagreements. */
  topChanges: Array<{ from: string; to: string; count: number }>;
  versions: { serving: string[]; shadow: string[] };
}

/** Serving results against shadow results of the same segments: where the candidate model differs. */
export function compareWithShadow(serving: EmotionResult[], shadow: EmotionResult[]): ShadowComparison {
  const shadowBySegment = new Map(shadow.map((r) => [r.segmentId, r]));
  const perClass = Object.fromEntries(
    CORE_EMOTIONS.map((label) => [label, { serving: 0, shadow: 0, agreed: 0 }]),
  ) as Record<string, ClassComparison>;
  const changes = new Map<string, number>();
  let pairs = 0;
  let agreed = 0;
  let difference = 0;
  const paired = new Set<string>();
  for (const result of serving) {
    const other = shadowBySegment.get(result.segmentId);
    if (!other || paired.has(result.segmentId)) continue;
    paired.add(result.segmentId);
    pairs += 1;
    perClass[result.topLabel]!.serving += 1;
    perClass[other.topLabel]!.shadow += 1;
    if (result.topLabel === other.topLabel) {
      agreed += 1;
      perClass[result.topLabel]!.agreed += 1;
    } else {
      const key = `${result.topLabel}→${other.topLabel}`;
      changes.set(key, (changes.get(key) ?? 0) + 1);
    }
    difference +=
      CORE_EMOTIONS.reduce(
        (sum, label) => sum + Math.abs((result.core[label] ?? 0) - (other.core[label] ?? 0)),
        0,
      ) / CORE_EMOTIONS.length;
  }
  const servingSegments = new Set(serving.map((r) => r.segmentId));
  return {
    pairs,
    servingOnly: servingSegments.size - pairs,
    shadowOnly: [...shadowBySegment.keys()].filter((id) => !servingSegments.has(id)).length,
    agreement: pairs === 0 ? 0 : agreed / pairs,
    meanScoreDifference: pairs === 0 ? 0 : difference / pairs,
    perClass,
    topChanges: [...changes]
      .map(([key, count]) => {
        const [from, to] = key.split('→') as [string, string];
        return { from, to, count };
      })
      .sort((a, b) => b.count - a.count)
      .slice(0, 10),
    versions: {
      serving: [...new Set(serving.map((r) => `${r.model.name}@${r.model.version}`))].sort(),
      shadow: [...new Set(shadow.map((r) => `${r.model.name}@${r.model.version}`))].sort(),
    },
  };
}
