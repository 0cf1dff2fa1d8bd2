import type { Decoding } from './asr-worker.js';

/**
 * Whisper's decoding choices per spoken language, where the language's measurements called for
 * other ones than WHISPER_BEAM_SIZE's. Romanian on multilingual base (`npm run bench --
 * romanian-speech`, 36 sentences spoken by espeak-ng -v ro): beam 5 instead of greedy, and an
 * initial prompt written in Romanian with its diacritics, which steers the decoder to Romanian
 * spelling (ș, ț, ă, â, î) instead of a neighbouring language's; bench/RESULTS.md has the figures.
 */
export const LANGUAGE_DECODING: Readonly<Record<string, Decoding>> = {
  ro: {
    beamSize: 5,
    initialPrompt: 'Transcriere în limba română, cu diacritice: ș, ț, ă, â, î.',
  },
};

/** A language's own decoding choices, or none. */
export function decodingFor(language: string | null, table = LANGUAGE_DECODING): Decoding {
  return (language && table[language]) || {};
}
