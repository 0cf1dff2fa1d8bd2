/**
 * npm run bench -- <name> [--json] [options]: runs one benchmark, prints its table (and a JSON line
 * with --json). pipeline takes --rows N (default 100000) and --latency-seconds S (default 20);
 * predict takes --seconds S per level (default 10) and --connections N,M,... for the levels after
 * concurrency 1 (16,24,32), and --tracing [--rounds N] (a second gateway with OpenTelemetry on at
 * 10%, loaded in turns with the first within each level);
 * audio takes --repeats N (pairs of sentences in the live stream, default 5) and --parts 1,2,3,4;
 * csv-job takes --rows N (default 100000); compression takes --rows N (default 50000);
 * runtime takes --rows N (default 100000), --only a,b,c (passthrough, pipeline, Kafka Streams),
 * --rounds N (the variants N times, taking turns; medians reported) and
 * --tracing ((a) and (b) again with OpenTelemetry on at 10%, into a Jaeger of its own);
 * romanian-speech takes --per-sentence; language-decision and speakers take none.
 */
const benchmarks: Record<string, () => Promise<{ main(json: boolean): Promise<void> }>> = {
  audio: () => import('./audio.js'),
  classify: () => import('./classify.js'),
  compression: () => import('./compression.js'),
  'csv-job': () => import('./csv-job.js'),
  'language-decision': () => import('./language-decision.js'),
  pipeline: () => import('./pipeline.js'),
  predict: () => import('./predict.js'),
  'romanian-speech': () => import('./romanian-speech.js'),
  profile: () => import('./profile-summary.js'),
  runtime: () => import('./runtime.js'),
  speakers: () => import('./speakers.js'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? benchmarks[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benchmarks).join('|')}> [--json]\n`);
  process.exit(2);
}
await (await load()).main(rest.includes('--json'));
