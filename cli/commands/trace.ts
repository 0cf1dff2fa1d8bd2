import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { formatTraceTable, type JaegerTrace, traceRows } from '../trace-table.js';

const DEFAULT_QUERY_URL = 'http://127.0.0.1:16686';

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description(
      "print one trace from Jaeger's query API as a table: every span under its parent, when it started, how long " +
        'it took, and how long a record waited in Kafka before each hop took it',
    )
    .argument(
      '<traceId>',
      "the trace id (32 hex digits), e.g. from a log line's trace_id or a traceparent header",
    )
    .option(
      '--jaeger <url>',
      `Jaeger's query API (default: JAEGER_QUERY_URL, else ${DEFAULT_QUERY_URL}, where \`up --tracing\` starts it)`,
    )
    .action(async (traceId: string, options: { jaeger?: string }) => {
      if (!/^[0-9a-f]{32}$/i.test(traceId))
        throw new UsageError(`'${traceId}' is not a trace id (32 hex digits)`);
      const base = (options.jaeger ?? process.env.JAEGER_QUERY_URL ?? DEFAULT_QUERY_URL).replace(/\/$/, '');
      let response: Response;
      try {
        response = await fetch(`${base}/api/traces/${traceId.toLowerCase()}`, {
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        throw new UsageError(`cannot reach Jaeger's query API at ${base}: ${(error as Error).message}`);
      }
      if (response.status === 404)
        throw new UsageError(`Jaeger at ${base} has no trace ${traceId} (not sampled, or not yet exported)`);
      if (!response.ok)
        throw new UsageError(`Jaeger at ${base} answered ${response.status} for trace ${traceId}`);
      const [trace] = ((await response.json()) as { data: JaegerTrace[] | null }).data ?? [];
      if (!trace || trace.spans.length === 0)
        throw new UsageError(`Jaeger at ${base} has no spans of trace ${traceId}`);
      const rows = traceRows(trace);
      const services = new Set(rows.map((row) => row.service));
      process.stdout.write(
        `trace ${trace.traceID}: ${rows.length} spans in ${services.size} services\n${formatTraceTable(rows)}\n`,
      );
    });
}
