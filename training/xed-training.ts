import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CORE_EMOTIONS,
  type CoreEmotion,
  FINE_TO_CORE,
  type FineEmotion,
} from '../processors/classify/labels.js';
import { type Example, loadGoEmotions } from './datasets.js';
import { OUT_OF_DOMAIN_SETS, xedCoreLabels } from './out-of-domain.js';

/**
 * XED's English subtitle lines as extra training data for the encoder (issue 18: on dialogue the
 * GoEmotions-only encoder called 53% of lines neutral against a gold share of 14%). Lines of every
 * XED selection the out-of-domain report scores are left out, so both dialogue sets stay unseen.
 * A line keeps the core classes its XED labels map to (several when it has several); lines labelled
 * only anticipation or trust have no core class and are left out. XED's neutral lines are added in
 * the same share GoEmotions train gives neutral, so dialogue does not move the neutral prior.
 */
export function xedTrainingExamples(datasets: string): Example[] {
  const heldOut = new Set(
    OUT_OF_DOMAIN_SETS.filter((set) => set.language === 'en' && set.name.startsWith('xed-'))
      .flatMap((set) => set.load(datasets))
      .map((e) => e.text.trim()),
  );
  const usable = (text: string | undefined): text is string =>
    text !== undefined && text.trim().length >= 2 && !heldOut.has(text.trim());
  const emotional: Example[] = [];
  for (const line of readFileSync(join(datasets, 'xed', 'en-annotated.tsv'), 'utf8').split('\n')) {
    const [text, ids] = line.split('\t');
    const labels = ids ? xedCoreLabels(ids) : [];
    if (usable(text) && labels.length > 0) emotional.push({ text: text.trim(), labels });
  }
  const share = goEmotionsNeutralShare(datasets);
  const wanted = Math.round((emotional.length * share) / (1 - share));
  const neutral: Example[] = [];
  for (const line of readFileSync(join(datasets, 'xed', 'neu_en.txt'), 'utf8').split('\n')) {
    if (neutral.length >= wanted) break;
    const text = line.split('\t')[1];
    if (usable(text)) neutral.push({ text: text.trim(), labels: ['neutral'] });
  }
  return [...emotional, ...neutral];
}

/** Share of GoEmotions train rows labelled neutral (about 0.33). */
function goEmotionsNeutralShare(datasets: string): number {
  const train = loadGoEmotions(join(datasets, 'goemotions'), 'train');
  const neutral = train.filter((e) => e.labels.some((l) => FINE_TO_CORE[l as FineEmotion] === 'neutral'));
  return neutral.length / train.length;
}

/** Writes examples as the trainer's extra-data TSV: text, then comma-separated core class indices. */
export function writeCoreExamples(file: string, examples: Example[]): void {
  const lines = examples.map(
    (e) =>
      `${e.text.replace(/[\t\n\r]+/g, ' ')}\t${e.labels.map((l) => CORE_EMOTIONS.indexOf(l as CoreEmotion)).join(',')}`,
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
}
