import { join } from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { JaegerServer } from '../runtime/stack/jaeger-server.js';

/**
 * The share of new traces a benchmark's traced run keeps: the default under load
 * (runtime/tracing/sampler.ts), or BENCH_TRACING_RATIO (0 loads the SDK and keeps nothing).
 */
export const BENCH_SAMPLE_RATIO = process.env.BENCH_TRACING_RATIO ?? '0.1';

/**
 * `--tracing`: a Jaeger of the benchmark's own and the variables that send a service's spans to
 * it at the default 10% sample, for a traced run beside the untraced one in the same benchmark.
 */
export async function startBenchTracing(options: {
  cacheDir: string;
  dataDir: string;
  logger: Logger;
}): Promise<{ env: Record<string, string>; queryUrl: string; stop: () => Promise<void> }> {
  const jaeger = await JaegerServer.start({
    cacheDir: options.cacheDir,
    dataDir: join(options.dataDir, 'jaeger'),
    logger: options.logger,
  });
  return {
    env: {
      ...jaeger.env(),
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: BENCH_SAMPLE_RATIO,
    },
    queryUrl: jaeger.queryUrl,
    stop: () => jaeger.stop(),
  };
}

/** How many spans Jaeger received per service (so a traced run shows that it did trace). */
export async function spansByService(queryUrl: string): Promise<Record<string, number>> {
  const services =
    ((await (await fetch(`${queryUrl}/api/services`)).json()) as { data: string[] | null }).data ?? [];
  const counts: Record<string, number> = {};
  for (const service of services) {
    const url = `${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=100000&lookback=2h`;
    const traces = (
      (await (await fetch(url)).json()) as {
        data: Array<{
          spans: Array<{ processID: string }>;
          processes: Record<string, { serviceName: string }>;
        }>;
      }
    ).data;
    counts[service] = traces.reduce(
      (sum, trace) =>
        sum + trace.spans.filter((span) => trace.processes[span.processID]?.serviceName === service).length,
      0,
    );
  }
  return counts;
}
