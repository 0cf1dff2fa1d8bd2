import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectCsvFile } from '../../producers/csv/csv-input.js';

const dir = mkdtempSync(join(tmpdir(), 'csv-input-'));
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const good = file('good.csv', '\uFEFFid,"text",lang\n1,"hello, world",en\n2,"multi\nline",en\n');
const missingColumn = file('missing.csv', 'id,body\n1,hello\n');
const binary = file('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]));
const empty = file('empty.csv', '');
const latin1 = file('latin1.csv', Buffer.from('id,text\n1,ma\xeet\xe9\n', 'latin1'));

describe('CSV input checks', () => {
  it('reads the header of a good file (BOM, quoted names) and its size', async () => {
    const { header, bytes } = await inspectCsvFile(good, { textColumn: 'text', idColumn: 'id' });
    expect(header).toEqual(['id', 'text', 'lang']);
    expect(bytes).toBeGreaterThan(0);
  });

  it('names a missing column and lists the ones there are', async () => {
    await expect(inspectCsvFile(missingColumn, { textColumn: 'text' })).rejects.toThrow(
      /has no column 'text' \(--text-column\); its columns are: 'id', 'body'/,
    );
    await expect(inspectCsvFile(good, { textColumn: 'text', idColumn: 'row' })).rejects.toThrow(
      /no column 'row' \(--id-column\)/,
    );
  });

  it('rejects binary, non-UTF-8, empty and missing files', async () => {
    await expect(inspectCsvFile(binary, { textColumn: 'text' })).rejects.toThrow(
      /not a CSV text file \(binary data/,
    );
    await expect(inspectCsvFile(latin1, { textColumn: 'text' })).rejects.toThrow(/not valid UTF-8/);
    await expect(inspectCsvFile(empty, { textColumn: 'text' })).rejects.toThrow(/is empty/);
    await expect(inspectCsvFile(join(dir, 'nope.csv'), { textColumn: 'text' })).rejects.toThrow(
      /cannot read .* ENOENT/,
    );
  });
});

describe('emotion-stream produce csv with a bad file', () => {
  // No KAFKA_BROKERS: a file check that passed would fail on that instead, so these prove the
  // file is rejected before any connection is made.
  const run = (path: string) => {
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    return spawnSync(
      process.execPath,
      ['--import', 'tsx', 'cli/run.ts', 'produce', 'csv', path, '--text-column', 'text'],
      {
        encoding: 'utf8',
        env,
      },
    );
  };

  it.each([
    ['a missing column', missingColumn, /has no column 'text'/],
    ['a binary file', binary, /not a CSV text file/],
    ['an empty file', empty, /is empty/],
  ])('%s: exit 1 and one clear line on stderr, nothing produced', (_name, path, message) => {
    const result = run(path);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^emotion-stream: /);
    expect(lines[0]).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
