import {
  CORE_EMOTIONS,
  type CoreEmotion,
  FINE_EMOTIONS,
  FINE_TO_CORE,
  type FineEmotion,
  isCoreEmotion,
} from './labels.js';

/** Label names of common Hugging Face emotion models that are not core class names themselves. */
const SYNONYMS: Record<string, CoreEmotion> = {
  angry: 'anger',
  rage: 'anger',
  annoyed: 'anger',
  disgusted: 'disgust',
  fearful: 'fear',
  scared: 'fear',
  afraid: 'fear',
  worry: 'fear',
  happy: 'joy',
  happiness: 'joy',
  enthusiasm: 'joy',
  fun: 'joy',
  sad: 'sadness',
  sorrow: 'sadness',
  surprised: 'surprise',
  others: 'neutral',
  other: 'neutral',
  none: 'neutral',
  'no emotion': 'neutral',
  empty: 'neutral',
  // bhadresh-savani/distilbert-base-uncased-emotion and kin: love is a kind of joy (Ekman).
  love: 'joy',
};

/**
 * Maps a model's labels onto the core classes: configured entries first, then core names,
 * GoEmotions names (the dataset's own Ekman grouping) and common synonyms. Labels it cannot place
 * are reported, and ignored when scoring.
 */
export function buildLabelMap(
  modelLabels: readonly string[],
  configured: Readonly<Record<string, string>> = {},
): { map: Map<string, CoreEmotion>; unmapped: string[] } {
  const map = new Map<string, CoreEmotion>();
  const unmapped: string[] = [];
  const lowerConfigured = new Map(
    Object.entries(configured).map(([k, v]) => [k.trim().toLowerCase(), v.trim().toLowerCase()]),
  );
  for (const label of modelLabels) {
    const key = label.trim().toLowerCase();
    const target = lowerConfigured.get(key) ?? key;
    if (lowerConfigured.has(key) && !isCoreEmotion(target)) {
      throw new Error(
        `label map entry '${label}=${target}': '${target}' is not one of ${CORE_EMOTIONS.join(', ')}`,
      );
    }
    const core = isCoreEmotion(target)
      ? target
      : ((FINE_TO_CORE as Record<string, CoreEmotion | undefined>)[target] ?? SYNONYMS[target]);
    if (core) map.set(label, core);
    else unmapped.push(label);
  }
  return { map, unmapped };
}

/** True when every label is a GoEmotions label, so the scores can be reported as fine-grained ones. */
export function isGoEmotionsLabelSet(labels: readonly string[]): labels is FineEmotion[] {
  return (
    labels.length > 0 &&
    labels.every((label) => (FINE_EMOTIONS as readonly string[]).includes(label.toLowerCase()))
  );
}
