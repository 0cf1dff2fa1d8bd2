import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { formatTraceTable, type JaegerTrace, traceRows } from '../../cli/trace-table.js';
import { ConfigError } from '../../runtime/config/index.js';
import { silentLogger } from '../../runtime/logger.js';
import { contextOfHeaders, headersOfContext, traceHeadersOf } from '../../runtime/tracing/record-context.js';
import { outputTraceHeaders, startRecordSpan, traceWork } from '../../runtime/tracing/record-spans.js';
import { DEFAULT_SAMPLE_RATIO, samplerFromEnv } from '../../runtime/tracing/sampler.js';
import { startTracing, tracingEnabled } from '../../runtime/tracing/start-tracing.js';
import { otlpEndpointOf, tracingConfigFromEnv } from '../../runtime/tracing/tracing-config.js';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing configuration (OTEL_* variables)', () => {
  it('samples one new trace in ten by default, following the parent; the standard names otherwise', () => {
    expect(DEFAULT_SAMPLE_RATIO).toBe(0.1);
    expect(samplerFromEnv({}).toString()).toBe(
      'ParentBased{root=TraceIdRatioBased{0.1}, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}',
    );
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' }).toString()).toBe('AlwaysOnSampler');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe('AlwaysOffSampler');
    // A ratio sampler named without an argument samples everything, as the specification says.
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio' }).toString()).toBe('TraceIdRatioBased{1}');
    expect(
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).toString(),
    ).toContain('root=TraceIdRatioBased{0.25}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }).toString()).toContain(
      'root=AlwaysOnSampler',
    );
  });

  it('refuses a sampler it does not know and a ratio outside 0..1, naming the variable', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(ConfigError);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
      /^OTEL_TRACES_SAMPLER: 'sometimes'/,
    );
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(
      /^OTEL_TRACES_SAMPLER_ARG: must be/,
    );
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: 'half' })).toThrow(ConfigError);
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(() => tracingConfigFromEnv({ ...on, OTEL_BSP_SCHEDULE_DELAY: '-1' })).toThrow(
      /^OTEL_BSP_SCHEDULE_DELAY: /,
    );
    expect(() => tracingConfigFromEnv({ ...on, OTEL_SDK_DISABLED: 'yes' })).toThrow(/^OTEL_SDK_DISABLED: /);
    expect(
      tracingConfigFromEnv({ ...on, OTEL_BSP_MAX_QUEUE_SIZE: '4096', OTEL_SERVICE_NAME: 'x' }),
    ).toMatchObject({
      endpoint: 'http://c:4318',
      serviceName: 'x',
      batch: { maxQueueSize: 4096 },
    });
    // Empty counts as unset: the k8s env file lists the variables empty, tracing off.
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: '' })).toBeUndefined();
  });

  it('is off without an OTLP endpoint or with OTEL_SDK_DISABLED=true, and then makes no span', async () => {
    expect(otlpEndpointOf({})).toBeUndefined();
    expect(otlpEndpointOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe('http://c:4318');
    expect(otlpEndpointOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/v1/traces' })).toBe(
      'http://t:4318/v1/traces',
    );
    expect((await startTracing('test', silentLogger(), {})).enabled).toBe(false);
    const disabled = await startTracing('test', silentLogger(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_SDK_DISABLED: 'true',
    });
    expect(disabled.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const record = { topic: 'in', partition: 0, offset: '5', headers: { traceparent: PARENT } };
    expect(startRecordSpan(record, { group: 'g', name: 'stage' })).toBeUndefined();
    // Off, a record's outputs carry its own trace headers on, unchanged.
    expect(outputTraceHeaders({ traceparent: PARENT, tracestate: 'a=b', other: 'x' }, undefined)).toEqual({
      traceparent: PARENT,
      tracestate: 'a=b',
    });
    expect(await traceWork([{}], 'engine', async () => 42)).toBe(42);
  });
});

describe('trace context in record headers (the W3C propagator)', () => {
  it('reads a traceparent into a context and writes it back the same', async () => {
    await startTracing('test', silentLogger(), {});
    const context = contextOfHeaders({ traceparent: PARENT, tracestate: 'vendor=abc' });
    const span = trace.getSpanContext(context)!;
    expect(span).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(headersOfContext(context)).toEqual({ traceparent: PARENT, tracestate: 'vendor=abc' });
  });

  it('ignores malformed and all-zero traceparents', () => {
    for (const bad of [
      'garbage',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ]) {
      expect(trace.getSpanContext(contextOfHeaders({ traceparent: bad })), bad).toBeUndefined();
      expect(headersOfContext(contextOfHeaders({ traceparent: bad }))).toEqual({});
    }
    expect(headersOfContext(ROOT_CONTEXT)).toEqual({});
    expect(traceHeadersOf({ other: 'x' })).toEqual({});
  });
});

describe('emotion-stream trace: a Jaeger trace as a table', () => {
  const span = (
    id: string,
    parent: string | undefined,
    service: string,
    operation: string,
    startMs: number,
    durationMs: number,
    tags: Array<{ key: string; value: string | number | boolean }> = [],
  ) => ({
    traceID: 't1',
    spanID: id,
    operationName: operation,
    references: parent ? [{ refType: 'CHILD_OF', traceID: 't1', spanID: parent }] : [],
    tags,
    processID: service,
    startTime: 1_000_000_000 + startMs * 1000,
    duration: durationMs * 1000,
  });
  const hop = (topic: string) => [
    { key: 'messaging.operation.type', value: 'process' },
    { key: 'messaging.destination.name', value: topic },
    { key: 'messaging.destination.partition.id', value: '1' },
    { key: 'messaging.kafka.offset', value: 7 },
  ];
  const jaegerTrace: JaegerTrace = {
    traceID: 't1',
    processes: { gw: { serviceName: 'gateway' }, c: { serviceName: 'classify' }, s: { serviceName: 'sink' } },
    spans: [
      span('s1', 'caller', 'gw', 'POST /v1/streams/:streamId/texts', 0, 5, [
        { key: 'http.response.status_code', value: 202 },
      ]),
      span('s4', 's2', 's', 'process emotions', 300, 60_000, hop('emotions')),
      span('s2', 's1', 'c', 'process segments.translated', 105, 50, hop('segments.translated')),
      span('s3', 's2', 'c', 'classify', 110, 9.5, [{ key: 'emotion_stream.batch.records', value: 3 }]),
      span('s5', 's2', 'c', 'process segments.translated', 200, 1, [
        ...hop('segments.translated'),
        { key: 'otel.status_code', value: 'ERROR' },
        { key: 'otel.status_description', value: 'dead-lettered' },
      ]),
    ],
  };

  it('orders spans as a tree in time, with the wait in Kafka before each hop', () => {
    const rows = traceRows(jaegerTrace);
    expect(rows.map((row) => [row.depth, row.service, row.operation, row.startMs, row.waitedMs])).toEqual([
      [0, 'gateway', 'POST /v1/streams/:streamId/texts', 0, undefined],
      [1, 'classify', 'process segments.translated', 105, 100],
      [2, 'classify', 'classify', 110, undefined],
      [2, 'classify', 'process segments.translated', 200, 45],
      [2, 'sink', 'process emotions', 300, 145],
    ]);
    expect(rows.map((row) => row.detail)).toEqual([
      'HTTP 202',
      'segments.translated[1]@7',
      'batch of 3',
      'segments.translated[1]@7, ERROR dead-lettered',
      'emotions[1]@7',
    ]);
  });

  it('prints aligned columns, the span column indented by depth', () => {
    const table = formatTraceTable(traceRows(jaegerTrace)).split('\n');
    expect(table[0]).toMatch(/^start ms {2}duration ms {2}waited ms {2}service +span +detail$/);
    expect(table[1]).toContain('    0.0          5.0             gateway   POST /v1/streams/:streamId/texts');
    expect(table[5]).toContain('300.0      60000.0      145.0  sink          process emotions');
  });
});
