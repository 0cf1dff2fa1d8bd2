/** A plain text table: the benchmarks' human-readable output. */
export function printTable(title: string, rows: Array<[string, string | number]>): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    title,
    '-'.repeat(title.length),
    ...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function format(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
