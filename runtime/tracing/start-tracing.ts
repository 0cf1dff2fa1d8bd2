import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Logger } from '../logger.js';
import { tracingConfigFromEnv } from './tracing-config.js';

/** The process's tracing: whether spans are recorded and exported, and how to flush them at exit. */
export interface Tracing {
  enabled: boolean;
  /** Exports what is still buffered and stops the exporter; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

let enabled = false;

/** True once startTracing has installed the SDK in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Tracing for one service process, configured the OpenTelemetry way (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER/_ARG, OTEL_SDK_DISABLED; tracing-config.ts). On only when
 * an OTLP endpoint is set and the SDK is not disabled; off, the SDK and the exporter are not even
 * loaded and no span is made, and a record's trace headers pass on unchanged, so a trace an
 * upstream system started can still be followed by its id.
 */
export async function startTracing(
  serviceName: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing> {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const config = tracingConfigFromEnv(env);
  if (!config) return { enabled: false, shutdown: async () => undefined };
  // Loaded only when on: the SDK and the protobuf exporter are modules a service that does not
  // trace has no use for.
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, hooks] =
    await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/context-async-hooks'),
    ]);
  const service = config.serviceName ?? `emotion-stream-${serviceName}`;
  const provider = new TracerProvider({
    sampler: config.sampler,
    resource: resourceFromAttributes({ 'service.name': service, 'service.namespace': 'emotion-stream' }),
    // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS and _TIMEOUT itself; the
    // processor's queue bounds what a slow collector can hold back (spans past it are dropped).
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...config.batch })],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  enabled = true;
  logger.info(
    { service, endpoint: config.endpoint, sampler: config.sampler.toString() },
    'tracing on: spans exported over OTLP',
  );
  return {
    enabled: true,
    shutdown: async () => {
      await provider
        .shutdown()
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'tracing: the last spans could not be exported'),
        );
    },
  };
}
