import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import { ConfigError } from '../config/index.js';

/**
 * The share of new traces kept when OTEL_TRACES_SAMPLER is not set. The SDK's own default
 * (parentbased_always_on) records a span for every record of every hop: at the pipeline's
 * thousands of rows a second that is more spans than the records themselves. One in ten keeps
 * every hop of the traces it keeps (the stages follow the gateway's decision), and a client that
 * sends a sampled `traceparent` is always traced.
 */
export const DEFAULT_SAMPLE_RATIO = 0.1;

/**
 * The sampler named by OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, the values of the
 * OpenTelemetry SDK environment specification (sdk-environment-variables.md). The 3.x trace SDK
 * no longer reads them itself; a wrong value is a configuration error, not a silent default.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_traceidratio';
  const ratio = () => {
    const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    if (!arg)
      return name === 'parentbased_traceidratio' && !env.OTEL_TRACES_SAMPLER ? DEFAULT_SAMPLE_RATIO : 1;
    const value = Number(arg);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a ratio from 0 to 1, got '${arg}'`);
    }
    return value;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new ConfigError(
        'OTEL_TRACES_SAMPLER',
        `'${name}' is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio`,
      );
  }
}
