/**
 * What one chunk of speech says about which of the deployment's languages (TRANSCRIBE_LANGUAGES) a
 * stream is in: a share per candidate, summing to 1, and how it was found.
 *
 * Measured on espeak-ng speech with Whisper base (`npm run bench -- language-decision`):
 * - English: Whisper's language token gives English 0.77–0.95 of its whole distribution on every
 *   sentence; that is decisive on its own (`acoustic`).
 * - Romanian (espeak's voice): the token is spread over Czech, Polish, Hungarian, Latin…, and
 *   restricted to {en, ro} it picked Romanian for only 10 of 20 sentences. Decoding the chunk once
 *   per candidate and comparing the decodes' mean token log-probability (`trial`) picked it for 10
 *   of 11, with the one miss a near tie.
 */
export interface LanguageEvidence {
  /** Candidate → share of the belief, summing to 1. */
  shares: Record<string, number>;
  method: 'acoustic' | 'trial';
  /** Whether this chunk alone settles it (a clear language token, or a trial). */
  decisive: boolean;
}

/**
 * Whisper's language token is trusted alone when its top candidate holds at least this much of
 * the probability over all of Whisper's languages (English speech: 0.77–0.95 in the bench).
 */
export const DECISIVE_TOKEN_PROBABILITY = 0.5;
/** …and at least this share among the candidates. */
const DECISIVE_CANDIDATE_SHARE = 0.9;

/** A decode whose text repeats itself scores as if it were this unlikely (faster-whisper's own limit). */
const REPETITION_COMPRESSION_RATIO = 2.4;
const FAILED_DECODE_LOGPROB = -5;
/**
 * How sharply a log-probability difference becomes a share: between the right and the wrong
 * language the bench saw mean differences of 0.2–0.8 nats a token, which this maps to 0.73–0.98.
 */
const TRIAL_SHARPNESS = 5;

/**
 * The language token restricted to the candidates; `decisive` when the token alone settles it.
 * A candidate Whisper does not know gets nothing.
 */
export function tokenEvidence(
  probabilities: Readonly<Record<string, number>>,
  candidates: readonly string[],
): LanguageEvidence {
  const raw = candidates.map((language) => Math.max(0, probabilities[language] ?? 0));
  const total = raw.reduce((sum, p) => sum + p, 0);
  const shares = Object.fromEntries(
    candidates.map((language, i) => [language, total > 0 ? raw[i]! / total : 1 / candidates.length]),
  );
  const top = Math.max(...raw);
  const decisive = top >= DECISIVE_TOKEN_PROBABILITY && total > 0 && top / total >= DECISIVE_CANDIDATE_SHARE;
  return { shares, method: 'acoustic', decisive };
}

/** One candidate's trial decode of a chunk. */
export interface TrialDecode {
  segments: Array<{ startMs: number; endMs: number; avgLogprob: number; compressionRatio: number }>;
}

/**
 * A chunk decoded once per candidate language: each decode scored by its mean token
 * log-probability (weighted by segment length); a decode that is empty or repeats itself scores
 * as a failure. Shares are a softmax of the scores.
 */
export function trialEvidence(trials: Readonly<Record<string, TrialDecode>>): LanguageEvidence {
  const scores = Object.entries(trials).map(([language, trial]) => [language, trialScore(trial)] as const);
  const best = Math.max(...scores.map(([, score]) => score));
  const weights = scores.map(
    ([language, score]) => [language, Math.exp(TRIAL_SHARPNESS * (score - best))] as const,
  );
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  return {
    shares: Object.fromEntries(weights.map(([language, weight]) => [language, weight / total])),
    method: 'trial',
    decisive: true,
  };
}

function trialScore(trial: TrialDecode): number {
  let weighted = 0;
  let length = 0;
  for (const segment of trial.segments) {
    if (segment.compressionRatio > REPETITION_COMPRESSION_RATIO) return FAILED_DECODE_LOGPROB;
    const ms = Math.max(1, segment.endMs - segment.startMs);
    weighted += segment.avgLogprob * ms;
    length += ms;
  }
  return length > 0 ? Math.max(FAILED_DECODE_LOGPROB, weighted / length) : FAILED_DECODE_LOGPROB;
}
