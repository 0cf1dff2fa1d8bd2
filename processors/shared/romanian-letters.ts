/**
 * Romanian's comma-below letters in place of the legacy cedilla forms (ş ţ Ş Ţ, from pre-Unicode-4.1
 * Romanian encodings) that Whisper's tokenizer and older texts still write. The comma-below forms
 * (ș ț Ș Ț) are the standard (SR 13011); dictionaries, models and search match those. Only for
 * Romanian: Turkish's ş is a letter of its own.
 */
const CEDILLA: Record<string, string> = { ş: 'ș', ţ: 'ț', Ş: 'Ș', Ţ: 'Ț' };

export function withCommaBelow(text: string): string {
  return text.replace(/[şţŞŢ]/g, (letter) => CEDILLA[letter]!);
}
