/** npm run bench -- <name> [--json]: runs one benchmark, prints its table (and a JSON line with --json). */
const benchmarks: Record<string, () => Promise<{ main(json: boolean): Promise<void> }>> = {
  classify: () => import('./classify.js'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? benchmarks[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benchmarks).join('|')}> [--json]\n`);
  process.exit(2);
}
await (await load()).main(rest.includes('--json'));
