import { CoreEmotion } from '../../schemas/index.js';

export { CoreEmotion } from '../../schemas/index.js';

/** The 7 core classes, in the order every core score vector uses. */
export const CORE_EMOTIONS: readonly CoreEmotion[] = CoreEmotion;

/** GoEmotions' 27 emotions plus neutral, in the dataset's label-id order (Demszky et al., 2020). */
export const FINE_EMOTIONS = [
  'admiration',
  'amusement',
  'anger',
  'annoyance',
  'approval',
  'caring',
  'confusion',
  'curiosity',
  'desire',
  'disappointment',
  'disapproval',
  'disgust',
  'embarrassment',
  'excitement',
  'fear',
  'gratitude',
  'grief',
  'joy',
  'love',
  'nervousness',
  'optimism',
  'pride',
  'realization',
  'relief',
  'remorse',
  'sadness',
  'surprise',
  'neutral',
] as const;
export type FineEmotion = (typeof FINE_EMOTIONS)[number];

/**
 * The GoEmotions authors' grouping of their emotions onto Ekman's six (ekman_mapping.json of the
 * dataset, CC BY 4.0), with neutral as the seventh class. Serving needs it without the dataset, to
 * map the labels of GoEmotions models onto the core classes.
 */
export const FINE_TO_CORE: Readonly<Record<FineEmotion, CoreEmotion>> = {
  anger: 'anger',
  annoyance: 'anger',
  disapproval: 'anger',
  disgust: 'disgust',
  fear: 'fear',
  nervousness: 'fear',
  joy: 'joy',
  amusement: 'joy',
  approval: 'joy',
  excitement: 'joy',
  gratitude: 'joy',
  love: 'joy',
  optimism: 'joy',
  relief: 'joy',
  pride: 'joy',
  admiration: 'joy',
  desire: 'joy',
  caring: 'joy',
  sadness: 'sadness',
  disappointment: 'sadness',
  embarrassment: 'sadness',
  grief: 'sadness',
  remorse: 'sadness',
  surprise: 'surprise',
  realization: 'surprise',
  confusion: 'surprise',
  curiosity: 'surprise',
  neutral: 'neutral',
};

export function isCoreEmotion(label: string): label is CoreEmotion {
  return (CORE_EMOTIONS as readonly string[]).includes(label);
}
