import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One chaos scenario's outcome: the figures the suite's table reports. */
export interface ChaosFigures {
  scenario: string;
  records: number;
  lost: number;
  duplicated: number;
  /** From the end of the fault to the last missing record arriving. */
  recoveryMs: number;
  faults: string;
}

const REPORT = join('.cache', 'test-artifacts', 'chaos.md');

/** Appends a row to `.cache/test-artifacts/chaos.md` (the table the README quotes) and prints it. */
export function reportChaos(figures: ChaosFigures): void {
  mkdirSync(join('.cache', 'test-artifacts'), { recursive: true });
  if (!existsSync(REPORT)) {
    writeFileSync(
      REPORT,
      '| scenario | faults | records | lost | duplicated | recovery (s) |\n| --- | --- | --- | --- | --- | --- |\n',
    );
  }
  const row = `| ${figures.scenario} | ${figures.faults} | ${figures.records} | ${figures.lost} | ${figures.duplicated} | ${(figures.recoveryMs / 1000).toFixed(1)} |`;
  appendFileSync(REPORT, `${row}\n`);
  process.stderr.write(`chaos: ${row}\n`);
}

/** Lost and duplicated ids: expected ids missing from `seen`, and ids seen more than once. */
export function tally(
  expected: Iterable<string>,
  seen: Iterable<string>,
): { lost: number; duplicated: number } {
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  let lost = 0;
  for (const id of expected) if (!counts.has(id)) lost++;
  let duplicated = 0;
  for (const count of counts.values()) if (count > 1) duplicated += count - 1;
  return { lost, duplicated };
}
