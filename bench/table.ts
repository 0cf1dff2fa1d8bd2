/** A plain text table: the benchmarks' human-readable output (a label, then one or more values). */
export function printTable(title: string, rows: Array<[string, ...Array<string | number>]>): void {
  const columns = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...rows.map((row) => String(row[c] ?? '').length)),
  );
  const lines = [
    title,
    '-'.repeat(title.length),
    ...rows.map((row) =>
      row
        .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]!) : String(cell).padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function format(value: number, digits = 0): string {
  // A figure that was not measured (a variant left out with --only) is NaN: print a dash, not "NaN".
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A positive number given on the command line as `--name N`, else the fallback. */
export function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** `--name 1,2,3`: positive numbers, or the fallback when the option is absent. */
export function listOption(name: string, fallback: number[]): number[] {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const values = (process.argv[index + 1] ?? '').split(',').map(Number);
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) {
    throw new Error(`--${name} must be a comma-separated list of positive numbers`);
  }
  return values;
}

/**
 * With `--cpu-prof DIR`, the Node flags that make the benchmarked service processes write V8 CPU
 * profiles into DIR when they exit (summarise them with `npm run bench -- profile DIR/*.cpuprofile`).
 */
export function profilingArgs(): string[] {
  const index = process.argv.indexOf('--cpu-prof');
  if (index < 0) return [];
  const dir = process.argv[index + 1];
  if (!dir || dir.startsWith('--')) throw new Error('--cpu-prof needs a directory');
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}
