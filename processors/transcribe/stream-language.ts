import type { LanguageEvidence } from './language-evidence.js';

/** How a stream without a language hint gets its one language (TRANSCRIBE_LANGUAGE_*). */
export interface LanguageDecisionSettings {
  /** The languages the deployment expects (TRANSCRIBE_LANGUAGES); the first is the fallback. */
  candidates: readonly string[];
  /** A language is decided once its share of the evidence so far reaches this (0.5–1). */
  confidence: number;
  /** Speech heard without reaching `confidence` after which the fallback is taken (ms). */
  withinMs: number;
}

/**
 * The settings restricted to the languages an engine can hear (English alone for tiny.en alone):
 * with one left there is nothing to decide.
 */
export function hearableBy(
  settings: LanguageDecisionSettings,
  hears: (language: string) => boolean,
): LanguageDecisionSettings {
  const hearable = settings.candidates.filter(hears);
  if (hearable.length === settings.candidates.length) return settings;
  return { ...settings, candidates: hearable.length > 0 ? hearable : settings.candidates.slice(0, 1) };
}

/** A decision needs at least this much speech unless the time is up: one short word proves little. */
export const MIN_DECISION_SPEECH_MS = 1000;

/**
 * The evidence of a stream's chunks so far. Chunks are independent looks at the same language, so
 * their shares multiply (summed as logarithms, naive Bayes): three chunks each 0.76 for Romanian
 * make 0.97, where an average would stay at 0.76 for ever (measured on espeak streams: the average
 * left 3 of 10 Romanian streams undecided after 9 s of speech).
 */
export interface LanguageTally {
  speechMs: number;
  windows: number;
  /** Candidate → Σ weight × ln(share), a chunk's weight its speech up to FULL_WEIGHT_MS. */
  logShares: Record<string, number>;
}

/** A chunk this long or longer counts fully; a shorter one in proportion (a word proves little). */
const FULL_WEIGHT_MS = 2000;
/** No single chunk is taken as certain: its shares are kept within [1e-3, 1 - 1e-3]. */
const MIN_SHARE = 1e-3;

export interface LanguageDecision {
  language: string;
  /** confident: its share reached the floor; fallback: the time ran out below it. */
  reason: 'confident' | 'fallback';
  speechMs: number;
  windows: number;
  /** Candidate → share of the evidence when decided. */
  shares: Record<string, number>;
}

/**
 * What a stream's language state is: still gathering, decided for good, or (a hinted stream) its
 * hint checked against its first speech.
 */
export type StreamLanguage =
  | { tally: LanguageTally }
  | { decision: LanguageDecision }
  | { hintChecked: string };

export const EMPTY_TALLY: LanguageTally = { speechMs: 0, windows: 0, logShares: {} };

/** The tally with one more chunk's evidence. */
export function withEvidence(
  tally: LanguageTally,
  evidence: LanguageEvidence,
  speechMs: number,
): LanguageTally {
  const weight = Math.min(1, Math.max(0, speechMs) / FULL_WEIGHT_MS);
  const logShares = { ...tally.logShares };
  for (const [language, share] of Object.entries(evidence.shares)) {
    const bounded = Math.min(1 - MIN_SHARE, Math.max(MIN_SHARE, share));
    logShares[language] = (logShares[language] ?? 0) + weight * Math.log(bounded);
  }
  return { speechMs: tally.speechMs + speechMs, windows: tally.windows + 1, logShares };
}

/** Each candidate's share of the evidence so far (equal shares before any). */
export function sharesOf(tally: LanguageTally, candidates: readonly string[]): Record<string, number> {
  const logs = candidates.map((language) => tally.logShares[language] ?? 0);
  const top = Math.max(...logs);
  const weights = logs.map((log) => Math.exp(log - top));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return Object.fromEntries(candidates.map((language, i) => [language, weights[i]! / total]));
}

/** The candidate the evidence favours so far (the fallback while there is none). */
export function leaderOf(tally: LanguageTally, candidates: readonly string[]): string {
  const shares = sharesOf(tally, candidates);
  return candidates.reduce((best, language) => (shares[language]! > shares[best]! ? language : best));
}

/**
 * The decision the tally allows, or undefined while it must go on gathering: the leader once its
 * share reaches the floor (after at least a second of speech), else the fallback once `withinMs`
 * of speech has been heard. Once made it is never revisited.
 */
export function decide(
  tally: LanguageTally,
  settings: LanguageDecisionSettings,
): LanguageDecision | undefined {
  const { candidates } = settings;
  const shares = sharesOf(tally, candidates);
  const leader = leaderOf(tally, candidates);
  const base = { speechMs: tally.speechMs, windows: tally.windows, shares };
  if (tally.speechMs >= MIN_DECISION_SPEECH_MS && shares[leader]! >= settings.confidence)
    return { language: leader, reason: 'confident', ...base };
  if (tally.speechMs >= settings.withinMs) return { language: candidates[0]!, reason: 'fallback', ...base };
  return undefined;
}

/** The decision in one line, for the stream event and the logs. */
export function describeDecision(decision: LanguageDecision): string {
  const shares = Object.entries(decision.shares)
    .sort((a, b) => b[1] - a[1])
    .map(([language, share]) => `${language} ${share.toFixed(2)}`)
    .join(', ');
  const heard = `${(decision.speechMs / 1000).toFixed(1)} s of speech in ${decision.windows} chunk${decision.windows === 1 ? '' : 's'}`;
  return decision.reason === 'confident'
    ? `language ${decision.language} decided after ${heard} (${shares})`
    : `language not clear after ${heard} (${shares}): falling back to ${decision.language}; restart the stream with a language to change it`;
}
