import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
/** Where the product's code lives; tests and benches may build clients of their own. */
const PRODUCT = ['cli', 'gateway', 'processors', 'producers', 'runtime', 'sinks', 'schemas', 'training'];
const CLIENT_IMPORT = /from '(kafkajs|@platformatic\/kafka)'|import\('(kafkajs|@platformatic\/kafka)'\)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.split('/').includes('node_modules'))
    .map((name) => join(dir, name));
}

describe('the Kafka client seam', () => {
  it('keeps the client library and its handle inside runtime/kafka/', () => {
    const files = PRODUCT.flatMap((dir) => {
      try {
        return sources(join(ROOT, dir));
      } catch {
        return [];
      }
    }).map((path) => relative(ROOT, path));
    expect(files.length).toBeGreaterThan(100);
    const outside = files.filter((file) => !file.startsWith('runtime/kafka/'));
    const offenders = outside.filter((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return CLIENT_IMPORT.test(text) || text.includes('kafkajsOf');
    });
    expect(offenders).toEqual([]);
    // The seam is real: its own modules do use the client.
    expect(
      files.filter(
        (file) =>
          file.startsWith('runtime/kafka/') && CLIENT_IMPORT.test(readFileSync(join(ROOT, file), 'utf8')),
      ).length,
    ).toBeGreaterThan(3);
  });
});
