import { InvalidArgumentError } from 'commander';
import { normalizeLanguage } from '../processors/shared/language.js';

/** Parsers for command-line option values, each failing with a message commander prints. */

export function choice<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    }
    return value as T;
  };
}

export function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** An ISO time or epoch milliseconds. */
export function timeOption(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError('expected an ISO time (2026-11-26T10:00:00Z) or epoch ms');
  return ms;
}

/** An ISO 639-1 code (or a name or tag it can be read from: English, en-US). */
export function languageOption(value: string): string {
  const code = normalizeLanguage(value);
  if (!code) throw new InvalidArgumentError('expected an ISO 639-1 code such as en or ro');
  return code;
}
