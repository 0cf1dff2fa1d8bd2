/**
 * POST /v1/predict of a running gateway under load (autocannon), at concurrency 1 and at a
 * saturating concurrency, beside the Python prototype's figures, for one model tier (`--tier`). The gateway runs as its own
 * process (as deployed) on the local stack, started here unless the environment names one; the
 * load generator shares the machine's cores with it.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../cli/config.js';
import { createPipelineTopics } from '../cli/provision.js';
import { ServiceSupervisor } from '../cli/service-supervisor.js';
import { CLASSIFY_TIERS, type ClassifyConfig } from '../processors/classify/config.js';
import { createLogger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { defaultCacheDir, LocalStack } from '../runtime/stack/local-stack.js';
import { defaultDatasetsDir, loadGoEmotions } from '../training/datasets.js';
import { cpuPerRow, snapshotCpu } from './process-cpu.js';
import { format, listOption, numberOption, printTable, profilingArgs } from './table.js';
import { BENCH_SAMPLE_RATIO, startBenchTracing } from './tracing-env.js';

/** The prototype (FastAPI + Azure ML), one text per request. */
const SEED = { rps: 44.7, mean_ms: 117, p50_ms: 90, p99_ms: 270 };

interface Level {
  connections: number;
  /** Requests answered in the level. */
  requests: number;
  rps: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, connections: number, seconds: number, bodies: string[]): Promise<Level> {
  const result = await autocannon({
    url: `${url}/v1/predict`,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({
      method: 'POST',
      path: '/v1/predict',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  });
  return {
    connections,
    requests: result.requests.total,
    rps: result.requests.average,
    mean_ms: result.latency.mean,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * One level from its rounds: requests and errors summed, rates over the whole time, latencies as
 * the request-weighted mean of the rounds' (autocannon reports percentiles per run, not merged).
 */
function mergedRounds(rounds: Level[]): Level {
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  const weighted = (key: 'mean_ms' | 'p50_ms' | 'p99_ms') =>
    rounds.reduce((sum, round) => sum + round[key] * round.requests, 0) / Math.max(1, requests);
  return {
    connections: rounds[0]!.connections,
    requests,
    rps: rounds.reduce((sum, round) => sum + round.rps, 0) / rounds.length,
    mean_ms: weighted('mean_ms'),
    p50_ms: weighted('p50_ms'),
    p99_ms: weighted('p99_ms'),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    non2xx: rounds.reduce((sum, round) => sum + round.non2xx, 0),
  };
}

/** `--tier quality|fast`: which shipped models the gateway serves (default: the configured tier). */
function tierOption(): ClassifyConfig['tier'] {
  const index = process.argv.indexOf('--tier');
  if (index < 0) return loadConfig().classify.tier;
  const tier = process.argv[index + 1];
  if (!CLASSIFY_TIERS.includes(tier as never))
    throw new Error(`--tier must be one of ${CLASSIFY_TIERS.join(', ')}`);
  return tier as ClassifyConfig['tier'];
}

/** Names a process of the run: the gateway, the tracing backend, this benchmark (autocannon). */
function roleOf(args: string[], pid: number): string {
  if (pid === process.pid) return 'this benchmark (autocannon)';
  if (args.includes('gateway')) return 'gateway';
  return basename(args[0] ?? 'other');
}

/** Each level with tracing on beside the same level off, and the gateway's CPU a request on ÷ off. */
function tracedComparison(
  off: Level[],
  offCpu: Record<string, number>,
  on: { levels: Level[]; cpu: Record<string, number> },
) {
  return {
    sample_ratio: Number(BENCH_SAMPLE_RATIO),
    cpu_us_per_request: on.cpu,
    gateway_cpu_ratio:
      Math.round(((on.cpu.gateway ?? Number.NaN) / (offCpu.gateway ?? Number.NaN)) * 1000) / 1000,
    levels: on.levels.map((level, i) => ({
      ...level,
      rps_ratio: Math.round((level.rps / off[i]!.rps) * 1000) / 1000,
      p99_ratio: Math.round((level.p99_ms / off[i]!.p99_ms) * 1000) / 1000,
    })),
  };
}

export async function main(json: boolean): Promise<void> {
  const seconds = numberOption('seconds', 10);
  const saturating = listOption('connections', [16, 24, 32]);
  const tier = tierOption();
  const baseConfig = loadConfig();
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-predict-'));
  const stack = await LocalStack.start({ config: baseConfig, dataDir, logger });
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const env = {
    ...process.env,
    ...stack.env(),
    TOPIC_PREFIX: prefix,
    CLASSIFY_TIER: tier,
    LOG_LEVEL: 'warn',
    GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
  };
  // --tracing: a Jaeger for a second gateway with OpenTelemetry on at a 10% sample.
  const tracing = process.argv.includes('--tracing')
    ? await startBenchTracing({ cacheDir: defaultCacheDir(baseConfig), dataDir, logger })
    : undefined;
  // Real comments, one per request, in rotation: the cost depends on the text.
  const bodies = loadGoEmotions(join(defaultDatasetsDir(), 'goemotions'), 'test')
    .slice(0, 500)
    .map((example) => JSON.stringify({ text: example.text }));
  /** A gateway process started with `extraEnv`, warmed up; `stop` ends it. */
  const startGateway = async (name: string, preferredPort: number, extraEnv: Record<string, string>) => {
    const supervisor = new ServiceSupervisor({
      services: [{ name, args: ['gateway'], portVariable: 'GATEWAY_PORT', preferredPort }],
      env: { ...env, ...extraEnv },
      logDir: join(dataDir, 'logs'),
      logger,
      cliScript: join(packageRoot(), 'cli', 'run.ts'),
      nodeArgs: profilingArgs(),
    });
    try {
      const [gateway] = await supervisor.start();
      const url = `http://127.0.0.1:${gateway!.port}`;
      await load(url, 8, 2, bodies); // warm-up: JIT, onnxruntime arenas
      return { url, pid: gateway!.pid, stop: () => supervisor.stop() };
    } catch (error) {
      await supervisor.stop();
      throw error;
    }
  };
  const gateways: Array<{ stop: () => Promise<void> }> = [];
  try {
    await createPipelineTopics(loadConfig(env), logger);
    const plain = await startGateway('gateway', 18_080, {});
    gateways.push(plain);
    // --tracing: a second gateway with OpenTelemetry on, loaded in turns with the first within
    // each level (off, on, off, on, ...) so both see the same machine. Measured one after the
    // other, two gateways with tracing off in both differed by 7% in CPU a request (2026-12-05).
    const traced = tracing ? await startGateway('gateway-traced', 18_090, tracing.env) : undefined;
    if (traced) gateways.push(traced);
    const rounds = traced ? numberOption('rounds', 4) : 1;
    const levels: Level[] = [];
    const tracedLevels: Level[] = [];
    const roleOfPid = (args: string[], pid: number) =>
      pid === plain.pid ? 'gateway' : pid === traced?.pid ? 'gateway (traced)' : roleOf(args, pid);
    const before = snapshotCpu(roleOfPid);
    for (const connections of [1, ...saturating]) {
      const off: Level[] = [];
      const on: Level[] = [];
      for (let round = 0; round < rounds; round++) {
        off.push(await load(plain.url, connections, seconds / rounds, bodies));
        if (traced) on.push(await load(traced.url, connections, seconds / rounds, bodies));
      }
      levels.push(mergedRounds(off));
      if (traced) tracedLevels.push(mergedRounds(on));
    }
    const after = snapshotCpu(roleOfPid);
    const requests = (list: Level[]) => list.reduce((sum, level) => sum + level.requests, 0);
    // Each gateway's CPU over its own requests; autocannon's and Jaeger's over all of them.
    const { 'gateway (traced)': _, ...cpu } = cpuPerRow(
      before,
      after,
      requests(levels) + requests(tracedLevels),
    );
    cpu.gateway = cpuPerRow(before, after, requests(levels)).gateway ?? Number.NaN;
    const tracedCpu = {
      ...cpu,
      gateway: cpuPerRow(before, after, requests(tracedLevels))['gateway (traced)'] ?? Number.NaN,
    };
    const single = levels[0]!;
    // The headline is the busiest level; every level is in the table and in `levels`.
    const saturated = levels.slice(1).reduce((best, level) => (level.rps > best.rps ? level : best));
    const figures = {
      rps: saturated.rps,
      mean_ms: saturated.mean_ms,
      p50_ms: saturated.p50_ms,
      p99_ms: saturated.p99_ms,
      errors: levels.reduce((sum, level) => sum + level.errors, 0),
      non2xx: levels.reduce((sum, level) => sum + level.non2xx, 0),
      connections: saturated.connections,
      rps_c1: single.rps,
      mean_ms_c1: single.mean_ms,
      p50_ms_c1: single.p50_ms,
      p99_ms_c1: single.p99_ms,
      tier,
      seed_rps: SEED.rps,
      rps_ratio: saturated.rps / SEED.rps,
      levels,
      cpu_us_per_request: cpu,
      ...(traced ? { traced: tracedComparison(levels, cpu, { levels: tracedLevels, cpu: tracedCpu }) } : {}),
    };
    const rows: Array<[string, string | number]> = [];
    for (const level of levels) {
      rows.push(
        [`${level.connections} connection(s): requests/s`, format(level.rps)],
        [
          `${level.connections} connection(s): mean / p50 / p99 (ms)`,
          `${format(level.mean_ms, 2)} / ${format(level.p50_ms, 2)} / ${format(level.p99_ms, 2)}`,
        ],
        [`${level.connections} connection(s): errors, non-2xx`, `${level.errors}, ${level.non2xx}`],
      );
    }
    rows.push(
      ['prototype: requests/s', format(SEED.rps, 1)],
      ['prototype: mean / p50 / p99 (ms)', `${SEED.mean_ms} / ${SEED.p50_ms} / ${SEED.p99_ms}`],
      ['ours / prototype (requests/s)', `${format(figures.rps_ratio, 0)}×`],
    );
    printTable(
      `POST /v1/predict, ${tier} tier, one GoEmotions comment per request, ${seconds} s per level`,
      rows,
    );
    if (figures.traced) {
      printTable(
        `the same with tracing on (OpenTelemetry, a ${Number(BENCH_SAMPLE_RATIO) * 100}% sample, into Jaeger), ÷ off`,
        [
          ...figures.traced.levels.map((level): [string, string] => [
            `${level.connections} connection(s): requests/s, p99 (ms); on ÷ off`,
            `${format(level.rps)}, ${format(level.p99_ms, 2)}; ${format(level.rps_ratio, 3)}, ${format(level.p99_ratio, 3)}`,
          ]),
          [
            "the gateway's CPU a request (µs): off, on; on ÷ off",
            `${format(cpu.gateway ?? Number.NaN)}, ${format(figures.traced.cpu_us_per_request.gateway ?? Number.NaN)}; ${format(figures.traced.gateway_cpu_ratio, 3)}`,
          ],
          ["jaeger's CPU a request (µs), on", format(figures.traced.cpu_us_per_request.jaeger ?? 0)],
        ],
      );
    }
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    for (const gateway of gateways) await gateway.stop();
    await tracing?.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
