import type { Sampler } from '@opentelemetry/sdk-trace';
import { ConfigError } from '../config/index.js';
import { samplerFromEnv } from './sampler.js';

/** What a service traces with, from the OpenTelemetry SDK's standard variables. */
export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (the exporter reads it again itself). */
  endpoint: string;
  /** OTEL_SERVICE_NAME; `emotion-stream-<service>` when unset. */
  serviceName: string | undefined;
  sampler: Sampler;
  /** OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_MAX_QUEUE_SIZE, which the 3.x SDK leaves to its caller. */
  batch: { scheduledDelayMillis?: number; maxQueueSize?: number };
}

/** The OTLP endpoint the standard variables name, or undefined when none is set. */
export function otlpEndpointOf(env: NodeJS.ProcessEnv): string | undefined {
  return (
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined
  );
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(name, `must be a positive integer, got '${raw}'`);
  return value;
}

/**
 * Tracing's settings (sdk-environment-variables.md of the OpenTelemetry specification), or
 * undefined when tracing is off: no OTLP endpoint, or OTEL_SDK_DISABLED=true. Empty counts as
 * unset, as everywhere in the configuration; a wrong value is a ConfigError naming its variable.
 */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  const endpoint = otlpEndpointOf(env);
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase();
  if (disabled && disabled !== 'true' && disabled !== 'false') {
    throw new ConfigError('OTEL_SDK_DISABLED', `must be true or false, got '${env.OTEL_SDK_DISABLED}'`);
  }
  if (!endpoint || disabled === 'true') return undefined;
  const scheduledDelayMillis = positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY');
  const maxQueueSize = positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE');
  return {
    endpoint,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || undefined,
    sampler: samplerFromEnv(env),
    batch: {
      ...(scheduledDelayMillis ? { scheduledDelayMillis } : {}),
      ...(maxQueueSize ? { maxQueueSize } : {}),
    },
  };
}
