import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JaegerServer } from '../../runtime/stack/jaeger-server.js';
import { defaultCacheDir } from '../../runtime/stack/local-stack.js';
import { freePort } from '../../runtime/stack/ports.js';
import { speak } from '../support/audio.js';
import { killCliProcesses, runCli } from '../support/cli.js';
import { pipelineStack } from '../support/pipeline.js';
import { stackEnv } from '../support/stack.js';
import { StageProcess } from '../support/stage.js';

/** A span as Jaeger's query API returns it (/api/traces/{id}). */
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; value: string | number | boolean }>;
  processID: string;
  startTime: number;
  duration: number;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

let jaeger: JaegerServer;
const processes: StageProcess[] = [];
let gatewayUrl: string;
let env: Record<string, string>;
let topics: Awaited<ReturnType<typeof pipelineStack>>['topics'];

/** The trace with this id once `complete` says every span it waits for has arrived. */
async function traceOf(traceId: string, complete: (trace: JaegerTrace) => boolean): Promise<JaegerTrace> {
  let last: JaegerTrace | undefined;
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(1000)) {
    const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`);
    if (response.ok) {
      last = ((await response.json()) as { data: JaegerTrace[] }).data[0];
      if (last && complete(last)) return last;
    }
  }
  throw new Error(
    `trace ${traceId} incomplete: ${JSON.stringify(last?.spans.map((s) => [service(last!, s), s.operationName]))}`,
  );
}

const service = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]!.serviceName;

/** The spans of one service with this operation name. */
function spansOf(trace: JaegerTrace, serviceName: string, operation: string): JaegerSpan[] {
  return trace.spans.filter((s) => service(trace, s) === serviceName && s.operationName === operation);
}

/** A process span's Kafka attributes, as the messaging conventions name them. */
function expectKafkaAttributes(span: JaegerSpan, topic: string, group: string) {
  expect(tag(span, 'messaging.system')).toBe('kafka');
  expect(tag(span, 'messaging.operation.type')).toBe('process');
  expect(tag(span, 'messaging.destination.name')).toBe(topic);
  expect(String(tag(span, 'messaging.destination.partition.id'))).toMatch(/^\d+$/);
  expect(Number(tag(span, 'messaging.kafka.offset'))).toBeGreaterThanOrEqual(0);
  expect(tag(span, 'messaging.consumer.group.name')).toBe(group);
  expect(tag(span, 'span.kind')).toBe('consumer');
}

/**
 * The chain from a gateway request to the sink: each hop's `process` span is a child of the hop
 * before it (of the request's span for the first), and each stage's engine span is its child.
 */
function expectHops(trace: JaegerTrace, prefix: string, first: JaegerSpan, stages: string[]) {
  const topicOf: Record<string, string> = {
    transcribe: `${prefix}audio.chunks`,
    correct: `${prefix}segments.raw`,
    translate: `${prefix}segments.corrected`,
    classify: `${prefix}segments.translated`,
  };
  let parents = [first];
  for (const stage of stages) {
    const hops = spansOf(trace, `emotion-stream-${stage}`, `process ${topicOf[stage]}`);
    expect(hops.length, stage).toBeGreaterThan(0);
    for (const hop of hops) {
      expect(
        parents.map((p) => p.spanID),
        `${stage}'s parent`,
      ).toContain(parentOf(hop));
      expectKafkaAttributes(hop, topicOf[stage]!, `${prefix}emotion-stream.${stage}`);
      const engine = trace.spans.filter((s) => s.operationName === stage && parentOf(s) === hop.spanID);
      expect(engine, `${stage}'s engine span`).toHaveLength(1);
    }
    parents = hops;
  }
  const sinks = spansOf(trace, 'emotion-stream-blob-sink', `process ${prefix}emotions`);
  expect(sinks.length).toBeGreaterThan(0);
  for (const sink of sinks) {
    expect(parents.map((p) => p.spanID)).toContain(parentOf(sink));
    expectKafkaAttributes(sink, `${prefix}emotions`, `${prefix}emotion-stream.blob-sink`);
  }
}

describe('tracing: OpenTelemetry spans over OTLP into Jaeger', () => {
  let prefix: string;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tracing-'));
    const pipeline = await pipelineStack('tracing');
    prefix = pipeline.prefix;
    topics = pipeline.topics;
    jaeger = await JaegerServer.start({
      cacheDir: defaultCacheDir(pipeline.stack.config),
      dataDir: join(dataDir, 'jaeger'),
      logger: pipeline.stack.logger,
    });
    const gatewayPort = await freePort();
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    env = {
      ...stackEnv(pipeline.overrides),
      ...jaeger.env(),
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      // The sink's span lasts until its file is written: a short interval keeps the test short.
      SINK_FLUSH_INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
    };
    const services: Array<[string, string[]]> = [
      ['transcribe', ['stage', 'transcribe']],
      ['correct', ['stage', 'correct']],
      ['translate', ['stage', 'translate']],
      ['classify', ['stage', 'classify']],
      ['blob-sink', ['sink', 'blob']],
      ['gateway', ['gateway']],
    ];
    for (const [name, args] of services) {
      const child = new StageProcess(env, join(dataDir, `${name}.log`), ['cli/run.ts', ...args]);
      child.start();
      processes.push(child);
    }
    await Promise.all(processes.map((child) => child.serving));
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(300)) {
      if ((await fetch(`${gatewayUrl}/readyz`).catch(() => undefined))?.ok) break;
    }
  });

  afterAll(async () => {
    killCliProcesses();
    await Promise.all(processes.map((child) => child.kill('SIGTERM')));
    await jaeger?.stop();
  });

  it('follows a text from the HTTP request through every stage to the sink, and a replay starts a linked trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const sent = await fetch(`${gatewayUrl}/v1/streams/traced-text/texts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ texts: ['I am so happy today!', 'This is awful.'], language: 'en' }),
    });
    expect(sent.status).toBe(202);
    const complete = (t: JaegerTrace) =>
      spansOf(t, 'emotion-stream-blob-sink', `process ${prefix}emotions`).length === 2;
    const trace = await traceOf(traceId, complete);

    const [request] = spansOf(trace, 'emotion-stream-gateway', 'POST /v1/streams/:streamId/texts');
    expect(request, 'the gateway request span').toBeDefined();
    // The caller's span is its parent: the trace continues the client's.
    expect(parentOf(request!)).toBe('00f067aa0ba902b7');
    expect(tag(request!, 'span.kind')).toBe('server');
    expect(tag(request!, 'http.response.status_code')).toBe(202);
    expectHops(trace, prefix, request!, ['correct', 'translate', 'classify']);
    // Two texts: every hop twice, each in its own chain.
    expect(spansOf(trace, 'emotion-stream-classify', `process ${topics.segmentsTranslated}`)).toHaveLength(2);

    // The operator's view of it: `emotion-stream trace` prints the tree with each hop's wait.
    const table = await runCli(['trace', traceId], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^trace ${traceId}: ${trace.spans.length} spans in 5 services$`));
    // Each hop one level under the one before it (the span column is indented by depth).
    const column = (service: string, span: string) =>
      lines.find((line) => line.includes(` ${service} `) && line.includes(`  ${span}`))?.indexOf(span) ?? -1;
    const depths = [
      column('emotion-stream-gateway', 'POST /v1/streams/:streamId/texts'),
      column('emotion-stream-correct', `process ${topics.segmentsRaw}`),
      column('emotion-stream-translate', `process ${topics.segmentsCorrected}`),
      column('emotion-stream-classify', `process ${topics.segmentsTranslated}`),
      column('emotion-stream-blob-sink', `process ${topics.emotions}`),
    ];
    expect(depths[0]).toBeGreaterThan(0);
    expect(depths.map((at) => at - depths[0]!)).toEqual([0, 2, 4, 6, 8]);

    // A replay of classify starts a trace of its own per record, linked to the record's trace.
    const replayed = await runCli(
      ['replay', '--stage', 'classify', '--group', `${prefix}replay-traced`],
      env,
    );
    expect(replayed.code, replayed.stderr).toBe(0);
    const classifySpans = new Set(
      spansOf(trace, 'emotion-stream-classify', `process ${topics.segmentsTranslated}`).map((s) => s.spanID),
    );
    let linked: JaegerSpan[] = [];
    for (
      const deadline = Date.now() + 60_000;
      linked.length < 2 && Date.now() < deadline;
      await sleep(1000)
    ) {
      const url = `${jaeger.queryUrl}/api/traces?service=emotion-stream-replay&limit=100&lookback=1h`;
      const found = ((await (await fetch(url)).json()) as { data: JaegerTrace[] }).data;
      linked = found
        .flatMap((t) => t.spans)
        .filter((s) => s.references.some((r) => r.traceID === traceId && s.traceID !== traceId));
    }
    expect(linked, 'replay spans linked to the original trace').toHaveLength(2);
    for (const span of linked) {
      expect(span.operationName).toBe(`process ${topics.segmentsTranslated}`);
      // A link (FOLLOWS_FROM), not a parent: the replay is not part of the request's trace.
      const link = span.references.find((r) => r.traceID === traceId)!;
      expect(link.refType).toBe('FOLLOWS_FROM');
      // The record's trace context is the one its producer (translate) gave it.
      expect(classifySpans.has(link.spanID)).toBe(false);
      expect(trace.spans.map((s) => s.spanID)).toContain(link.spanID);
    }
  });

  it('follows an audio upload through transcribe (with the Whisper worker) and the text stages to the sink', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracing-audio-'));
    const wav = await speak(['I am so happy today.'], join(dir, 'traced.wav'), 1, 'en-us');
    const traceId = randomBytes(16).toString('hex');
    const form = new FormData();
    form.append('streamId', 'traced-audio');
    form.append('language', 'en');
    form.append('file', new Blob([readFileSync(wav)]), 'traced.wav');
    const sent = await fetch(`${gatewayUrl}/v1/audio`, {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: form,
    });
    expect(sent.status).toBe(202);
    const trace = await traceOf(
      traceId,
      (t) => spansOf(t, 'emotion-stream-blob-sink', `process ${prefix}emotions`).length >= 1,
    );
    const [request] = spansOf(trace, 'emotion-stream-gateway', 'POST /v1/audio');
    expect(request).toBeDefined();
    expectHops(trace, prefix, request!, ['transcribe', 'correct', 'translate', 'classify']);
    // The Whisper worker's time, under the transcribe engine span of each chunk with speech.
    const whisper = trace.spans.filter((s) => s.operationName === 'whisper');
    expect(whisper.length).toBeGreaterThan(0);
    const transcribeEngine = new Set(
      trace.spans.filter((s) => s.operationName === 'transcribe').map((s) => s.spanID),
    );
    for (const span of whisper) expect(transcribeEngine.has(parentOf(span)!)).toBe(true);
  });

  it('gives each row of a CSV sent by `produce csv` a trace of its own, linked to the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracing-csv-'));
    const file = join(dir, 'rows.csv');
    writeFileSync(file, 'id,text\ntraced-row-1,I love this\ntraced-row-2,This makes me furious\n');
    const produced = await runCli(['produce', 'csv', file, '--language', 'en'], env);
    expect(produced.code, produced.stderr).toBe(0);
    const rowTraces = async () => {
      const url = `${jaeger.queryUrl}/api/traces?service=emotion-stream-produce-csv&limit=100&lookback=1h`;
      return ((await (await fetch(url)).json()) as { data: JaegerTrace[] }).data;
    };
    let found: JaegerTrace[] = [];
    const rows = (traces: JaegerTrace[]) =>
      traces.filter((t) => t.spans.some((s) => s.operationName === `create ${topics.segmentsRaw}`));
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(1000)) {
      found = await rowTraces();
      const complete = rows(found).filter(
        (t) => spansOf(t, 'emotion-stream-blob-sink', `process ${prefix}emotions`).length === 1,
      );
      if (complete.length === 2) break;
    }
    const [command] = found.flatMap((t) => t.spans).filter((s) => s.operationName === 'produce csv');
    expect(command, 'the command span').toBeDefined();
    // Two rows, two traces; neither is the command's.
    expect(rows(found)).toHaveLength(2);
    for (const trace of rows(found)) {
      expect(trace.traceID).not.toBe(command!.traceID);
      const [create] = spansOf(trace, 'emotion-stream-produce-csv', `create ${topics.segmentsRaw}`);
      expect(tag(create!, 'span.kind')).toBe('producer');
      expect(tag(create!, 'messaging.destination.name')).toBe(topics.segmentsRaw);
      // Linked to the command (FOLLOWS_FROM), not its child.
      expect(create!.references).toEqual([
        expect.objectContaining({
          refType: 'FOLLOWS_FROM',
          spanID: command!.spanID,
          traceID: command!.traceID,
        }),
      ]);
      expectHops(trace, prefix, create!, ['correct', 'translate', 'classify']);
    }
  });
});
