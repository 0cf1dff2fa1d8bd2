import { existsSync } from 'node:fs';
import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Typed accessors over an environment snapshot. Each accessor validates one variable and throws a
 * ConfigError naming it, so a bad deployment fails at start-up with one clear line instead of deep
 * inside a Kafka client.
 */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The raw value, with surrounding whitespace removed; empty counts as unset. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  requiredString(name: string, why: string): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(name, `is required ${why}`);
    return value;
  }

  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be an integer (got '${value}')`);
    const parsed = Number(value);
    if (bounds.min !== undefined && parsed < bounds.min) {
      throw new ConfigError(name, `must be at least ${bounds.min} (got ${parsed})`);
    }
    if (bounds.max !== undefined && parsed > bounds.max) {
      throw new ConfigError(name, `must be at most ${bounds.max} (got ${parsed})`);
    }
    return parsed;
  }

  /** An integer, or undefined when unset (the caller decides later, e.g. from the cluster's size). */
  optionalInt(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    return this.raw(name) === undefined ? undefined : this.int(name, 0, bounds);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(name, `must be true or false (got '${value}')`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got '${value}')`);
    }
    return match;
  }

  /** A comma-separated list of host:port pairs. */
  hostPorts(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim());
    for (const item of items) {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        throw new ConfigError(name, `must be a comma-separated list of host:port (got '${item || value}')`);
      }
    }
    return items;
  }

  url(name: string): URL | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `must be an absolute http(s) URL (got '${value}')`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(name, `must be an http(s) URL (got '${value}')`);
    }
    return parsed;
  }

  existingFile(name: string): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && !existsSync(value)) {
      throw new ConfigError(name, `names a file that does not exist ('${value}')`);
    }
    return value;
  }

  /** A name usable in Kafka topic, group and transactional ids. */
  identifier(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!/^[A-Za-z0-9._-]+$/.test(value)) {
      throw new ConfigError(name, `may contain only letters, digits, '.', '_' and '-' (got '${value}')`);
    }
    return value;
  }

  /** `a=b,c=d` pairs; each key must match `key`, each value must be non-empty. */
  pairs(name: string, key: RegExp, what: string): Record<string, string> | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const pairs: Record<string, string> = {};
    for (const item of value.split(',')) {
      const at = item.indexOf('=');
      const left = item.slice(0, at).trim();
      const right = item.slice(at + 1).trim();
      if (at <= 0 || !key.test(left) || right === '') {
        throw new ConfigError(name, `must be comma-separated ${what} pairs (got '${item.trim()}')`);
      }
      pairs[left] = right;
    }
    return pairs;
  }

  /** An ISO 639-1 language code such as en. */
  language(name: string, fallback: string): string {
    return languageCode(name, this.string(name, fallback));
  }

  optionalLanguage(name: string): string | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : languageCode(name, value);
  }

  /** A comma-separated list of ISO 639-1 language codes. */
  languages(name: string, fallback: string): string[] {
    return this.string(name, fallback)
      .split(',')
      .map((code) => languageCode(name, code.trim()));
  }
}

function languageCode(name: string, value: string): string {
  if (!/^[a-z]{2}$/.test(value)) {
    throw new ConfigError(name, `must hold ISO 639-1 codes such as en or ro (got '${value}')`);
  }
  return value;
}
