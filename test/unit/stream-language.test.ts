import { describe, expect, it } from 'vitest';
import { tokenEvidence, trialEvidence } from '../../processors/transcribe/language-evidence.js';
import {
  decide,
  describeDecision,
  EMPTY_TALLY,
  hearableBy,
  leaderOf,
  sharesOf,
  withEvidence,
} from '../../processors/transcribe/stream-language.js';

const settings = { candidates: ['en', 'ro'], confidence: 0.8, withinMs: 10_000 };
const shares = (en: number) => ({ shares: { en, ro: 1 - en }, method: 'trial' as const, decisive: true });

describe("a stream's language", () => {
  it('is decided once a language holds the floor over at least a second of speech', () => {
    const clear = withEvidence(EMPTY_TALLY, shares(0.02), 3000);
    expect(decide(clear, settings)).toMatchObject({ language: 'ro', reason: 'confident', windows: 1 });
    expect(describeDecision(decide(clear, settings)!)).toBe(
      'language ro decided after 3.0 s of speech in 1 chunk (ro 0.98, en 0.02)',
    );
    // Half a second proves little, however sure it sounds.
    expect(decide(withEvidence(EMPTY_TALLY, shares(0.02), 500), settings)).toBeUndefined();
  });

  it('multiplies unclear chunks, a short one counting less, and leads with the likelier language meanwhile', () => {
    // A Romanian espeak stream's three chunks, as the trial decodes scored them: 0.39, 0.95, 0.76.
    let tally = withEvidence(EMPTY_TALLY, shares(0.61), 3000);
    expect(decide(tally, settings)).toBeUndefined();
    expect(leaderOf(tally, settings.candidates)).toBe('en');
    tally = withEvidence(tally, shares(0.05), 3000);
    // 0.39 × 0.95 against 0.61 × 0.05: Romanian 0.92.
    expect(decide(tally, settings)).toMatchObject({ language: 'ro', windows: 2 });
    expect(sharesOf(tally, settings.candidates).ro).toBeCloseTo(0.924, 3);
    // Three chunks of 0.76 each are 0.97 together, where their mean would stay at 0.76.
    let steady = EMPTY_TALLY;
    for (let i = 0; i < 2; i++) steady = withEvidence(steady, shares(0.24), 3000);
    expect(decide(steady, settings)).toMatchObject({ language: 'ro' });
    // A quarter-second chunk counts an eighth of a full one.
    const short = withEvidence(EMPTY_TALLY, shares(0.01), 250);
    expect(sharesOf(short, settings.candidates).ro).toBeLessThan(0.7);
  });

  it('falls back to the first language when nothing is clear within the limit', () => {
    let tally = EMPTY_TALLY;
    // Chunks that lean a little one way, then the other: nothing clear in 10 s.
    for (let i = 0; i < 4; i++) tally = withEvidence(tally, shares(i % 2 === 0 ? 0.4 : 0.6), 2500);
    const decision = decide(tally, settings)!;
    expect(decision).toMatchObject({ language: 'en', reason: 'fallback', speechMs: 10_000 });
    expect(describeDecision(decision)).toMatch(
      /not clear after 10\.0 s.*falling back to en; restart the stream/,
    );
    // Before any speech every language has an equal share and the first leads.
    expect(leaderOf(EMPTY_TALLY, settings.candidates)).toBe('en');
  });

  it('leaves out the languages the engine cannot hear', () => {
    expect(hearableBy(settings, (l) => l === 'en').candidates).toEqual(['en']);
    expect(hearableBy(settings, () => false).candidates).toEqual(['en']);
    expect(hearableBy(settings, () => true)).toBe(settings);
  });
});

describe('language evidence of one chunk', () => {
  it("trusts Whisper's language token only when it is clear over all of Whisper's languages", () => {
    // English in espeak's voice: 0.77–0.95 of the token's whole distribution.
    expect(tokenEvidence({ en: 0.88, ro: 0.0001 }, ['en', 'ro'])).toMatchObject({
      decisive: true,
      method: 'acoustic',
    });
    // Romanian in espeak's voice: heard as Czech or Polish, a little English, a little Romanian.
    const unclear = tokenEvidence({ en: 0.05, ro: 0.12 }, ['en', 'ro']);
    expect(unclear.decisive).toBe(false);
    expect(unclear.shares.ro).toBeCloseTo(0.12 / 0.17);
    expect(tokenEvidence({}, ['en', 'ro']).shares).toEqual({ en: 0.5, ro: 0.5 });
  });

  it('scores trial decodes by how likely each is, a decode that repeats itself as a failure', () => {
    const decode = (avgLogprob: number, compressionRatio = 1.3) => ({
      segments: [{ startMs: 0, endMs: 2000, avgLogprob, compressionRatio }],
    });
    // Measured on a Romanian sentence: -0.91 a token decoded as Romanian, -1.71 as English.
    const romanian = trialEvidence({ ro: decode(-0.91), en: decode(-1.71) });
    expect(romanian.shares.ro).toBeGreaterThan(0.97);
    // English decoded as Romanian looped ("așa, așa, așa…"): likely tokens, but a failure.
    const english = trialEvidence({ ro: decode(-0.16, 9.5), en: decode(-0.38) });
    expect(english.shares.en).toBeGreaterThan(0.99);
    expect(trialEvidence({ ro: { segments: [] }, en: decode(-1.2) }).shares.en).toBeGreaterThan(0.99);
  });
});
