/**
 * Our Kafka runtime against Kafka Streams on one stack, in one run (issue 22): N rows through
 *   (a) three of our exactly-once stages as passthrough hops (bench/passthrough-stage.ts),
 *   (b) the real pipeline, correct → translate → classify (each stage its own process),
 *   (d) opt-in: the same pipeline fused in one process (`stage text-pipeline`), --only d,
 *   (e) opt-in: (a)'s three hops on @platformatic/kafka with KIP-447 transactions, one producer
 *       and one transaction per batch per process (bench/platformatic-passthrough.ts), --only e,
 *   (c) three Kafka Streams passthrough hops, exactly_once_v2, one JVM each, compressing in
 *       KAFKA_COMPRESSION's codec as our stages do (bench/kafka-streams/Passthrough.java, compiled
 *       here against the pinned kafka-streams jar),
 * each measured from the first produce to the last committed output a read_committed consumer
 * receives, with the CPU each process of the run used in that window (bench/process-cpu.ts), and
 *   (f) (b)'s work alone: its three handlers called in this process, no Kafka
 *       (bench/engines-alone.ts), as CPU per row, beside the CPU the machine has per row at
 *       Kafka Streams' rate. With --json the last line is {passthrough_rows_per_s, pipeline_rows_per_s,
 * kafka_streams_rows_per_s, pipeline_ratio, pipeline_efficiency, …}. Options: --rows N (default 100000),
 * --only a,b,c,d,f, --tier fast|quality (the classify tier of (b); default fast, the tier the issue's
 * 3,065 rows/s was measured with: the quality tier's encoder, not the runtime, sets (b)'s pace on a
 * CPU), --fused-instances N (processes of (d) in one consumer group; default 1), --warm-up-rows N
 * (records through the broker before the first measured run; default 200000),
 * --process-warm-up-rows N (rows through each run's processes before its measured window; default
 * 60,000, the distinct texts five times), --cpu-prof DIR (profiles of our processes), --rounds N
 * (every chosen variant N times, taking turns, every second round in reverse order: the figures are
 * the rounds' medians, the ratios and `pipeline_efficiency` the medians of each round's own, and the
 * JSON's `rounds` holds each round's; Kafka Streams' CPU a row swung from 66 to 107 µs between the
 * rounds of one run on 2026-12-05, more than any change of ours moves it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type Config, loadConfig } from '../cli/config.js';
import { createPipelineTopics } from '../cli/provision.js';
import { pipelineStageSpecs, type ServiceSpec, ServiceSupervisor } from '../cli/service-supervisor.js';
import { STAGE_TOPOLOGY, type StageTopics } from '../processors/stage-topology.js';
import { newTextSegment } from '../producers/segment-producer.js';
import { createKafka, type KafkaClients } from '../runtime/kafka/client.js';
import { RecordProducer } from '../runtime/kafka/record-producer.js';
import { RecordPump } from '../runtime/kafka/record-pump.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { AvroEncoder } from '../runtime/serde/avro-serde.js';
import { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { STREAM_SERVICE_NODE_FLAGS } from '../runtime/service-node-flags.js';
import { ensureArtifacts, fileName } from '../runtime/stack/artifacts.js';
import { findJava } from '../runtime/stack/java.js';
import { ensureKafkaJars } from '../runtime/stack/kafka-broker.js';
import { defaultCacheDir, LocalStack } from '../runtime/stack/local-stack.js';
import { readArtifactLock } from '../runtime/stack/lock.js';
import { ManagedProcess } from '../runtime/stack/managed-process.js';
import { avroSchemas, type TextSegment, topicNames } from '../schemas/index.js';
import { warmUpBroker } from './broker-warm-up.js';
import { measureEnginesAlone } from './engines-alone.js';
import { sampleTexts } from './pipeline.js';
import { cpuPerRow, snapshotCpu } from './process-cpu.js';
import { format, numberOption, printTable, profilingArgs } from './table.js';
import { BENCH_SAMPLE_RATIO, spansByService, startBenchTracing } from './tracing-env.js';

const HOPS = 3;

interface Running {
  stop(): Promise<void>;
}

/** javac beside the java the stack uses (JAVA_HOME first), or on PATH. */
function findJavac(): string {
  const java = findJava();
  const beside = java === 'java' ? 'javac' : java.replace(/java$/, 'javac');
  for (const candidate of [beside, 'javac']) {
    if (spawnSync(candidate, ['-version']).status === 0) return candidate;
  }
  throw new Error(
    'the Kafka Streams peer is compiled here and needs a JDK (javac); Debian: apt-get install openjdk-17-jdk-headless',
  );
}

/** The pinned Kafka Streams jars beside the broker's, and Passthrough.class built against them. */
async function kafkaStreamsClasspath(config: Config, logger: Logger): Promise<string> {
  const lock = readArtifactLock();
  const cacheDir = defaultCacheDir(config);
  const repositoryUrl = config.stack.mavenRepositoryUrl;
  const kafkaLibs = await ensureKafkaJars({ lock, cacheDir, repositoryUrl, logger });
  const streamsDir = join(cacheDir, `kafka-streams-${lock.kafkaStreams.version}`);
  await ensureArtifacts({
    repositoryUrl,
    artifacts: lock.kafkaStreams.jars,
    dir: join(streamsDir, 'libs'),
    label: `kafka-streams ${lock.kafkaStreams.version} jars`,
    logger,
  });
  const jars = [
    ...lock.kafka.jars.map((jar) => join(kafkaLibs.dir, fileName(jar))),
    ...lock.kafkaStreams.jars.map((jar) => join(streamsDir, 'libs', fileName(jar))),
  ].join(':');
  const classes = join(streamsDir, 'classes');
  const source = join(packageRoot(), 'bench', 'kafka-streams', 'Passthrough.java');
  mkdirSync(classes, { recursive: true });
  const compiled = spawnSync(findJavac(), ['-d', classes, '-cp', jars, source], { encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
  return `${classes}:${jars}`;
}

interface Measured {
  rate: number;
  /** µs of CPU per row in the measured window, by process role (bench/process-cpu.ts). */
  cpu: Record<string, number>;
}

/** Names a process of the run by what it is: the broker, a hop, a stage, this benchmark. */
function roleOf(args: string[], pid: number): string {
  if (pid === process.pid) return 'this benchmark (producer, reader)';
  if (args.includes('kafka.Kafka')) return 'broker';
  if (args.some((arg) => arg.includes('apicurio'))) return 'schema registry';
  const hop = args.map((arg) => /(?:^passthrough-|-hop-)(\d+)$/.exec(arg)).find(Boolean);
  if (hop) return `hop ${hop[1]}`;
  const stage = args.indexOf('stage');
  if (stage >= 0 && args[stage + 1]) return `${args[stage + 1]} stage`;
  return basename(args[0] ?? 'other');
}

/** Creates the hop topics (the partition count of the pipeline's topics, one copy). */
async function createTopics(kafka: KafkaClients, topics: string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts what `start` runs, then produces the rows onto `first` (Avro TextSegments, keyed by id,
 * 1,000 a send) and counts read_committed records on `last` until all are in: rows per second from
 * the first produce to the last record received.
 */
async function measure(options: {
  label: string;
  kafka: KafkaClients;
  encoder: AvroEncoder<TextSegment>;
  texts: string[];
  rows: number;
  first: string;
  last: string;
  start: () => Promise<Running>;
  /**
   * --tracing: one row in this many carries a sampled W3C traceparent, as the records of a request
   * the gateway's sampler kept do (the others carry none), in every run of the benchmark.
   */
  sampledEvery?: number;
  /** Rows through every process before the measured window (see below). */
  warmUpRows?: number;
}): Promise<Measured> {
  const { kafka, rows } = options;
  const running = await options.start();
  let received = 0;
  let lastAt = 0;
  const reader = new RecordPump({
    clients: kafka,
    groupId: `${options.last}.bench-reader`,
    topics: [options.last],
    logger: kafka.logger,
    mode: 'committed',
    onRecord: () => {
      received += 1;
      lastAt = Date.now();
    },
  });
  let producer: RecordProducer | undefined;
  /** Produces rows [from, to) onto `first` and waits until `received` reaches `until`. */
  const pass = async (sender: RecordProducer, tag: string, from: number, end: number, until: number) => {
    for (let i = from; i < end; i += 1000) {
      const messages = [];
      for (let k = i; k < Math.min(end, i + 1000); k++) {
        const id = `${options.label}-${tag}${k}`;
        const segment = newTextSegment({
          id,
          streamId: 'bench-runtime',
          seq: k,
          origin: 'API',
          text: options.texts[k % options.texts.length]!,
        });
        messages.push({
          key: id,
          value: options.encoder.encode({ ...segment, trace: [{ stage: 'produce', atMs: Date.now() }] }),
          ...(options.sampledEvery && k % options.sampledEvery === 0
            ? {
                headers: {
                  traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
                },
              }
            : {}),
        });
      }
      await sender.send(options.first, messages);
    }
    const deadline = Date.now() + 30 * 60_000;
    while (received < until && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (received < until)
      throw new Error(`${options.label}: only ${received} of ${until} rows arrived (${tag || 'measured'})`);
  };
  try {
    await reader.start();
    producer = await RecordProducer.connect(kafka);
    // Steady state, as (f) measures its handlers and as a long-running deployment runs: every
    // process of the run first carries rows unmeasured (the JITs, the correct stage's spelling
    // cache). Cold, the correct handler costs 142 µs a row against 39 warm and classify 92 against
    // 50 (12,000 texts, 2026-12-05); Kafka Streams' JVMs compile their hot paths the same way.
    const warmUp = options.warmUpRows ?? 0;
    if (warmUp > 0) {
      process.stderr.write(`runtime: ${options.label}: warming up on ${warmUp} rows\n`);
      await pass(producer, 'warm-', 0, warmUp, warmUp);
    }
    process.stderr.write(`runtime: ${options.label}: producing ${rows} rows\n`);
    const cpuBefore = snapshotCpu(roleOf);
    const started = Date.now();
    await pass(producer, '', 0, rows, warmUp + rows);
    const cpu = cpuPerRow(cpuBefore, snapshotCpu(roleOf), rows);
    const rate = rows / ((lastAt - started) / 1000);
    process.stderr.write(`runtime: ${options.label}: ${Math.round(rate)} rows/s\n`);
    return { rate, cpu };
  } finally {
    await producer?.close();
    await reader.stop();
    await running.stop();
  }
}

/**
 * Where each run's CPU went, in µs per row, beside the two figures that bound the target: the CPU
 * the whole machine has per row at Kafka Streams' rate, and what (b)'s work takes with no Kafka.
 */
function printCpuTable(
  result: {
    engines_cpu_us_per_row?: number;
    cpu_us_per_row_at_kafka_streams_rate?: number;
    avro_bytes_per_row?: Record<string, number>;
  },
  cpuByRun: Record<string, Record<string, number>>,
  rounds: Round[],
): void {
  const rows: Array<[string, string]> = [];
  // Without /proc (not Linux) every run's breakdown is empty.
  for (const [label, byRole] of Object.entries(cpuByRun).filter(
    ([, byRole]) => Object.keys(byRole).length > 0,
  )) {
    // The median of the rounds' totals (with one round, its total), not the sum of the medians.
    const total = medianOf(rounds.map((round) => totalCpu(round.cpuByRun[label])));
    rows.push([`${label}: every process`, format(total ?? Number.NaN)]);
    for (const [role, micros] of Object.entries(byRole).sort((a, b) => b[1] - a[1]))
      rows.push([`  ${role}`, format(micros)]);
  }
  if (result.cpu_us_per_row_at_kafka_streams_rate !== undefined)
    rows.push([
      `the machine's CPU per row at Kafka Streams' rate (${cpus().length} cores)`,
      format(result.cpu_us_per_row_at_kafka_streams_rate),
    ]);
  if (result.engines_cpu_us_per_row !== undefined)
    rows.push([
      "(f) the pipeline's work alone: its three handlers, no Kafka",
      format(result.engines_cpu_us_per_row),
    ]);
  if (result.avro_bytes_per_row !== undefined)
    rows.push([
      "(f)'s values, Avro bytes a record on each topic (Kafka Streams' hops carry the first)",
      Object.entries(result.avro_bytes_per_row)
        .map(([topic, bytes]) => `${topic} ${bytes}`)
        .join(', '),
    ]);
  if (rows.length > 0)
    printTable(
      `CPU per row by process in each measured window (µs${rounds.length > 1 ? `; medians over ${rounds.length} rounds, each process's and the totals'` : ''})`,
      rows,
    );
}

export async function main(json: boolean): Promise<void> {
  const rows = numberOption('rows', 100_000);
  const onlyIndex = process.argv.indexOf('--only');
  const only = new Set(
    onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').split(',') : ['a', 'b', 'c', 'd', 'f'],
  );
  const tierIndex = process.argv.indexOf('--tier');
  const tier = tierIndex >= 0 ? process.argv[tierIndex + 1] : 'fast';
  if (tier !== 'fast' && tier !== 'quality') throw new Error('--tier is fast or quality');
  // One fused process is one Node main thread doing all three stages' work; a deployment runs one
  // per core, in one consumer group (its transactional ids are per partition, so they split them).
  const fusedInstances = numberOption('fused-instances', 1);
  // A fresh broker's CPU per record fell from 80 to 21–33 µs over its first 200,000 transactional
  // records (four rounds of 50,000, 2026-12-01): without this the first run measured, Kafka
  // Streams', ran on a cold broker (bench/broker-warm-up.ts).
  const warmUpRows = numberOption('warm-up-rows', 200_000);
  // --tracing: (a) and (b) once more each with OpenTelemetry on at a 10% sample, into a Jaeger of
  // the benchmark's own, right after their untraced runs.
  const traced = process.argv.includes('--tracing');
  // --rounds N: every chosen variant N times, taking turns; the figures are the rounds' medians.
  const roundCount = numberOption('rounds', 1);
  const baseConfig = loadConfig();
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
  const stack = await LocalStack.start({ config: baseConfig, dataDir, logger });
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const env = { ...process.env, ...stack.env(), TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const config = loadConfig(env);
  const kafka = createKafka(config.kafka, logger, 'bench');
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const texts = sampleTexts();
  // Each run's processes first carry this many rows, unmeasured (see measure()): every distinct
  // text five times over. Kafka Streams' hops alone, 2026-12-05: after 12,000 rows 116–120 µs a row
  // at 16,300–17,000 rows/s, after 60,000 rows 98 µs at 20,200–20,400 (their JIT still compiling
  // after the shorter one); none at all, 138–293 µs.
  const processWarmUpRows = numberOption('process-warm-up-rows', 5 * texts.length);
  const partitions = config.topics.partitions;
  const bootstrap = (config.kafka.brokers ?? []).join(',');
  const supervise = async (
    services: ServiceSpec[],
    cliScript: string,
    extraEnv: Record<string, string> = {},
  ) => {
    const supervisor = new ServiceSupervisor({
      services,
      env: { ...env, CLASSIFY_TIER: tier, ...extraEnv },
      logDir: join(dataDir, 'logs'),
      logger,
      cliScript,
      nodeArgs: profilingArgs(),
    });
    await supervisor.start();
    return supervisor;
  };
  /** One measured run of `round`: rows onto `first`, counted on `last`, with what `start` runs in between. */
  const run = async (
    round: Round,
    label: string,
    first: string,
    last: string,
    start: () => Promise<Running>,
  ) => {
    const measured = await measure({
      label,
      kafka,
      encoder: await AvroEncoder.forSubject<TextSegment>(registry, `${first}-value`, avroSchemas.TextSegment),
      texts,
      rows,
      first,
      last,
      start,
      warmUpRows: processWarmUpRows,
      ...(traced ? { sampledEvery: Math.round(1 / Number(BENCH_SAMPLE_RATIO)) } : {}),
    });
    round.cpuByRun[label] = measured.cpu;
    return measured.rate;
  };
  /**
   * Starts one process per hop of `topics` (hop i reads topics[i], writes topics[i + 1]), each
   * logging to logs/<label>-<n>.log, and waits until every log says RUNNING.
   */
  const startHops = async (
    label: string,
    topics: string[],
    commandOf: (from: string, to: string, index: number) => { command: string; args: string[] },
  ): Promise<Running> => {
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const logOf = (i: number) => join(dataDir, 'logs', `${label}-${i + 1}.log`);
    const hops = topics.slice(0, HOPS).map((from, i) =>
      ManagedProcess.start({
        name: `${label}-${i + 1}`,
        ...commandOf(from, topics[i + 1]!, i),
        env: process.env,
        logFile: logOf(i),
        logger,
      }),
    );
    await Promise.all(
      hops.map((hop, i) =>
        hop.waitUntilReady(
          async () => existsSync(logOf(i)) && readFileSync(logOf(i), 'utf8').includes('RUNNING'),
          120_000,
        ),
      ),
    );
    return { stop: async () => void (await Promise.all(hops.map((hop) => hop.stop()))) };
  };
  const tracing = traced
    ? await startBenchTracing({ cacheDir: defaultCacheDir(baseConfig), dataDir, logger })
    : undefined;
  try {
    const classpath = only.has('c') ? await kafkaStreamsClasspath(config, logger) : '';
    process.stderr.write(
      `runtime: warming the broker up: ${warmUpRows} records in transactions, read back\n`,
    );
    // Its own client, quiet: the coordinator's CONCURRENT_TRANSACTIONS retries are expected here.
    const quiet = createLogger({ level: 'error', name: 'bench' });
    await createTopics(kafka, [`${prefix}warm-up`, `${prefix}warm-up.out`], partitions);
    await warmUpBroker(
      createKafka(config.kafka, quiet, 'warm-up'),
      config.stage,
      `${prefix}warm-up`,
      `${prefix}warm-up.out`,
      warmUpRows,
    );

    /**
     * One round: each chosen variant once, on topics of the round's own. With --rounds N the
     * variants take turns, every second round in reverse order, so a drift of the machine over the
     * run falls on all of them alike.
     */
    const roundSteps = (round: Round, roundPrefix: string): Array<() => Promise<void>> => {
      const { figures } = round;
      const steps: Array<() => Promise<void>> = [];
      /** The HOPS + 1 topics of a run of hops, created: hop i reads the i-th, writes the next. */
      const hopTopics = async (name: string) => {
        const topics = Array.from({ length: HOPS + 1 }, (_, i) => `${roundPrefix}${name}.${i}`);
        await createTopics(kafka, topics, partitions);
        return topics;
      };
      /** A run of HOPS processes that `commandOf` starts, one a hop, on topics of their own. */
      const measureHops = async (
        name: string,
        label: string,
        commandOf: (from: string, to: string, index: number) => { command: string; args: string[] },
      ) => {
        const topics = await hopTopics(name);
        return run(round, label, topics[0]!, topics[HOPS]!, () => startHops(label, topics, commandOf));
      };
      if (only.has('c'))
        steps.push(async () => {
          const java = findJava();
          figures.kafka_streams_rows_per_s = await measureHops('ks', 'kafka-streams', (from, to, i) => ({
            command: java,
            args: [
              '-Xmx512m',
              '-cp',
              classpath,
              'Passthrough',
              bootstrap,
              `${roundPrefix}ks-hop-${i + 1}`,
              from,
              to,
              join(dataDir, `ks-state-${i + 1}`),
              config.kafka.compression,
            ],
          }));
        });

      const passthrough = async (label: string, extraEnv: Record<string, string> = {}) => {
        const topics = await hopTopics(label.replace(/\W/g, '-'));
        return run(round, label, topics[0]!, topics[HOPS]!, () =>
          supervise(
            topics.slice(0, HOPS).map((from, i) => ({
              name: `${label.replace(/\W/g, '-')}-${i + 1}`,
              args: [`passthrough-${i + 1}`, from, topics[i + 1]!],
              portVariable: 'METRICS_PORT',
              preferredPort: 19_480 + i,
              // Our hops run as the stages do.
              nodeFlags: STREAM_SERVICE_NODE_FLAGS,
            })),
            join(packageRoot(), 'bench', 'passthrough-stage.ts'),
            extraEnv,
          ),
        );
      };
      if (only.has('a'))
        steps.push(async () => {
          figures.passthrough_rows_per_s = await passthrough('passthrough');
          if (tracing)
            figures.passthrough_traced_rows_per_s = await passthrough('passthrough+tracing', tracing.env);
        });

      if (only.has('e'))
        steps.push(async () => {
          figures.platformatic_passthrough_rows_per_s = await measureHops(
            'plat',
            'platformatic',
            (from, to, i) => ({
              command: process.execPath,
              args: [
                ...process.execArgv,
                ...profilingArgs(),
                join(packageRoot(), 'bench', 'platformatic-passthrough.ts'),
                `${roundPrefix}plat-hop-${i + 1}`,
                from,
                to,
                bootstrap,
              ],
            }),
          );
        });

      const pipeline = async (label: string, extraEnv: Record<string, string> = {}) => {
        // A prefix of its own per run: each writes the same topic names.
        const runPrefix = label === 'pipeline' ? roundPrefix : `${roundPrefix}${label.replace(/\W/g, '-')}.`;
        await createPipelineTopics(loadConfig({ ...env, TOPIC_PREFIX: runPrefix }), logger);
        const topics = topicNames(runPrefix);
        return run(round, label, topics.segmentsRaw, topics.emotions, () =>
          supervise(
            pipelineStageSpecs(19_464).filter((spec) => spec.name !== 'transcribe'),
            join(packageRoot(), 'cli', 'run.ts'),
            { TOPIC_PREFIX: runPrefix, ...extraEnv },
          ),
        );
      };
      if (only.has('b'))
        steps.push(async () => {
          figures.pipeline_rows_per_s = await pipeline('pipeline');
          if (tracing) figures.pipeline_traced_rows_per_s = await pipeline('pipeline+tracing', tracing.env);
        });

      if (only.has('d'))
        steps.push(async () => {
          // A prefix of its own: the fused stage writes the same topics as (b).
          const fusedPrefix = `${roundPrefix}fused.`;
          const fusedConfig = loadConfig({ ...env, TOPIC_PREFIX: fusedPrefix });
          await createPipelineTopics(fusedConfig, logger);
          const topics = topicNames(fusedPrefix);
          figures.fused_pipeline_rows_per_s = await run(
            round,
            'fused',
            topics.segmentsRaw,
            topics.emotions,
            () =>
              supervise(
                Array.from({ length: fusedInstances }, (_, i) => ({
                  name: fusedInstances === 1 ? 'text-pipeline' : `text-pipeline-${i + 1}`,
                  args: ['stage', 'text-pipeline'],
                  portVariable: 'METRICS_PORT',
                  preferredPort: 19_490 + i,
                  nodeFlags: STREAM_SERVICE_NODE_FLAGS,
                })),
                join(packageRoot(), 'cli', 'run.ts'),
                { TOPIC_PREFIX: fusedPrefix },
              ),
          );
        });

      if (only.has('f'))
        steps.push(async () => {
          process.stderr.write(
            `runtime: the work alone: ${rows} rows through the three handlers, no Kafka\n`,
          );
          const alone = await measureEnginesAlone({
            config: loadConfig({ ...env, CLASSIFY_TIER: tier }),
            logger,
            texts,
            rows,
          });
          figures.engines_cpu_us_per_row = alone.cpuMicrosPerRow;
          avroBytes ??= await avroBytesPerRow(registry, env.TOPIC_PREFIX, alone.valuesByTopic);
        });
      return steps;
    };

    /** (f)'s values on each topic, their mean size as a stage writes them (the first round's). */
    let avroBytes: Record<string, number> | undefined;
    const rounds: Round[] = [];
    for (let n = 1; n <= roundCount; n++) {
      if (roundCount > 1) process.stderr.write(`runtime: round ${n} of ${roundCount}\n`);
      const round: Round = { figures: {}, cpuByRun: {} };
      const steps = roundSteps(round, roundCount === 1 ? prefix : `${prefix}r${n}.`);
      for (const step of n % 2 === 0 ? steps.reverse() : steps) await step();
      rounds.push(round);
    }
    const { figures, cpuByRun } = medianRound(rounds);

    const tracedSpans = tracing ? await spansByService(tracing.queryUrl) : {};
    const ks = figures.kafka_streams_rows_per_s;
    // A variant's rate ÷ Kafka Streams' in each round, the median of those (one round: its own).
    const ratio = (key: string) =>
      hundredths(medianOf(rounds.map((round) => ratioToKafkaStreams(round, key)))) ?? Number.NaN;
    const timesKafkaStreams = (value: number) =>
      Number.isFinite(value) ? `${format(value, 2)}× Kafka Streams` : 'not run';
    const ksCpu = medianOf(rounds.map((round) => totalCpu(round.cpuByRun['kafka-streams'])));
    const pipelineCpu = medianOf(rounds.map((round) => totalCpu(round.cpuByRun.pipeline)));
    // With rounds, the median of each round's own efficiency: a round's Kafka Streams and pipeline
    // ran minutes apart, the rounds' may not have.
    const efficiency = medianOf(rounds.map(efficiencyOf));
    const result = {
      passthrough_rows_per_s: Math.round(figures.passthrough_rows_per_s ?? Number.NaN),
      pipeline_rows_per_s: Math.round(figures.pipeline_rows_per_s ?? Number.NaN),
      kafka_streams_rows_per_s: Math.round(ks ?? Number.NaN),
      pipeline_ratio: ratio('pipeline_rows_per_s'),
      passthrough_ratio: ratio('passthrough_rows_per_s'),
      ...(figures.fused_pipeline_rows_per_s === undefined
        ? {}
        : {
            fused_pipeline_rows_per_s: Math.round(figures.fused_pipeline_rows_per_s),
            fused_pipeline_ratio: ratio('fused_pipeline_rows_per_s'),
            fused_instances: fusedInstances,
          }),
      ...(figures.platformatic_passthrough_rows_per_s === undefined
        ? {}
        : {
            platformatic_passthrough_rows_per_s: Math.round(figures.platformatic_passthrough_rows_per_s),
            platformatic_passthrough_ratio: ratio('platformatic_passthrough_rows_per_s'),
          }),
      ...(figures.engines_cpu_us_per_row === undefined
        ? {}
        : { engines_cpu_us_per_row: Math.round(figures.engines_cpu_us_per_row) }),
      ...(avroBytes === undefined ? {} : { avro_bytes_per_row: avroBytes }),
      ...(ks === undefined
        ? {}
        : { cpu_us_per_row_at_kafka_streams_rate: Math.round((cpus().length * 1e6) / ks) }),
      ...(efficiency === undefined ? {} : { pipeline_efficiency: hundredths(efficiency) }),
      ...(rounds.length > 1 ? { rounds: rounds.map(roundSummary) } : {}),
      ...(tracing ? tracingFigures(figures, cpuByRun, tracedSpans) : {}),
      cpu_us_per_row: cpuByRun,
      rows,
      partitions,
      classify_tier: tier,
      // Every producer of the run, ours and Kafka Streams', writes batches in this codec.
      compression: config.kafka.compression,
    };
    printTable(
      `runtime benchmark: ${rows} rows on ${partitions} partitions, exactly-once, ${config.kafka.compression} batches, each hop its own process; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}`,
      [
        [
          '(a) our runtime, 3 passthrough stages (rows/s)',
          format(result.passthrough_rows_per_s),
          timesKafkaStreams(result.passthrough_ratio),
        ],
        [
          `(b) the real pipeline: correct → translate → classify, ${tier} tier (rows/s)`,
          format(result.pipeline_rows_per_s),
          timesKafkaStreams(result.pipeline_ratio),
        ],
        ...(result.fused_pipeline_rows_per_s === undefined
          ? []
          : [
              [
                `(d) the same pipeline fused (stage text-pipeline), ${fusedInstances === 1 ? 'one process' : `${fusedInstances} processes`}, ${tier} tier (rows/s)`,
                format(result.fused_pipeline_rows_per_s),
                timesKafkaStreams(result.fused_pipeline_ratio ?? Number.NaN),
              ] as [string, string, string],
            ]),
        ...(result.platformatic_passthrough_rows_per_s === undefined
          ? []
          : [
              [
                '(e) (a) on @platformatic/kafka, KIP-447: one transaction per batch (rows/s)',
                format(result.platformatic_passthrough_rows_per_s),
                timesKafkaStreams(result.platformatic_passthrough_ratio ?? Number.NaN),
              ] as [string, string, string],
            ]),
        [
          '(c) Kafka Streams 3.9.2, 3 passthrough hops, exactly_once_v2 (rows/s)',
          format(result.kafka_streams_rows_per_s),
          '1.00×',
        ],
      ],
    );
    printCpuTable(result, cpuByRun, rounds);
    if (tracing) printTracingTable(tracingFigures(figures, cpuByRun, tracedSpans));
    if (efficiency !== undefined && rounds.length === 1) {
      process.stdout.write(
        `pipeline efficiency: (Kafka Streams ${format(ksCpu!)} + the work alone ${format(figures.engines_cpu_us_per_row!)}) ÷ the pipeline ${format(pipelineCpu!)} µs a row = ${format(efficiency, 2)}\n`,
      );
    }
    if (rounds.length > 1) printRoundsTable(rounds.map(roundSummary), efficiency);
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await tracing?.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The mean size of each topic's values in the registry's wire format, as a stage encodes them, by
 * the topic's unprefixed name: the pipeline's records grow at every stage, Kafka Streams'
 * passthrough hops carry the first topic's all the way.
 */
async function avroBytesPerRow(
  registry: SchemaRegistryClient,
  prefix: string,
  valuesByTopic: Map<string, unknown[]>,
): Promise<Record<string, number>> {
  const named = topicNames(prefix);
  const plain = topicNames('');
  const schemaOf = new Map<string, { name: string; schema: object }>();
  for (const layout of Object.values(STAGE_TOPOLOGY) as StageTopics[]) {
    schemaOf.set(named[layout.input], { name: plain[layout.input], schema: avroSchemas[layout.inputSchema] });
    schemaOf.set(named[layout.output], {
      name: plain[layout.output],
      schema: avroSchemas[layout.outputSchema],
    });
  }
  const bytes: Record<string, number> = {};
  for (const [topic, values] of valuesByTopic) {
    const known = schemaOf.get(topic);
    if (!known || values.length === 0) continue;
    const encoder = await AvroEncoder.forSubject<unknown>(registry, `${topic}-value`, known.schema);
    bytes[known.name] = Math.round(
      values.reduce((sum: number, value) => sum + encoder.encode(value).length, 0) / values.length,
    );
  }
  return bytes;
}

/** One pass over the chosen variants: their figures, and each run's CPU a row by process. */
interface Round {
  figures: Record<string, number>;
  /** µs of CPU per row by process, per measured run (its label). */
  cpuByRun: Record<string, Record<string, number>>;
}

/** The median of the values there are; undefined when there are none. */
function medianOf(values: Array<number | undefined>): number | undefined {
  const present = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  if (present.length === 0) return undefined;
  const middle = Math.floor(present.length / 2);
  return present.length % 2 === 1 ? present[middle]! : (present[middle - 1]! + present[middle]!) / 2;
}

/** Each figure, and each run's CPU a row by process, as its median over the rounds. */
function medianRound(rounds: Round[]): Round {
  const figures: Record<string, number> = {};
  for (const key of new Set(rounds.flatMap((round) => Object.keys(round.figures))))
    figures[key] = medianOf(rounds.map((round) => round.figures[key]))!;
  const cpuByRun: Record<string, Record<string, number>> = {};
  for (const label of new Set(rounds.flatMap((round) => Object.keys(round.cpuByRun)))) {
    const runs = rounds.map((round) => round.cpuByRun[label]).filter((byRole) => byRole !== undefined);
    cpuByRun[label] = {};
    for (const role of new Set(runs.flatMap((byRole) => Object.keys(byRole))))
      cpuByRun[label][role] = Math.round(medianOf(runs.map((byRole) => byRole[role] ?? 0))!);
  }
  return { figures, cpuByRun };
}

/** Every process's CPU a row in one run, summed. */
function totalCpu(byRole: Record<string, number> | undefined): number | undefined {
  return byRole ? Object.values(byRole).reduce((sum, micros) => sum + micros, 0) : undefined;
}

/**
 * (Kafka Streams' CPU a row + the pipeline's work alone) ÷ the real pipeline's CPU a row, in one
 * round: above 1 the pipeline costs less than Kafka Streams would doing the same work.
 */
function efficiencyOf(round: Round): number | undefined {
  const ks = totalCpu(round.cpuByRun['kafka-streams']);
  const pipeline = totalCpu(round.cpuByRun.pipeline);
  const work = round.figures.engines_cpu_us_per_row;
  return ks === undefined || pipeline === undefined || work === undefined
    ? undefined
    : (ks + work) / pipeline;
}

/** A variant's rate (`key` of the figures) ÷ Kafka Streams' in one round. */
function ratioToKafkaStreams(round: Round, key: string): number | undefined {
  const value = round.figures[key];
  const ks = round.figures.kafka_streams_rows_per_s;
  return value === undefined || ks === undefined ? undefined : value / ks;
}

/** Rounded to two decimals, as the JSON line gives ratios. */
function hundredths(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 100) / 100;
}

/** A round's figures in the JSON line (--rounds N). */
function roundSummary(round: Round): Record<string, number | undefined> {
  return {
    passthrough_ratio: hundredths(ratioToKafkaStreams(round, 'passthrough_rows_per_s')),
    pipeline_ratio: hundredths(ratioToKafkaStreams(round, 'pipeline_rows_per_s')),
    kafka_streams_cpu_us_per_row: totalCpu(round.cpuByRun['kafka-streams']),
    passthrough_cpu_us_per_row: totalCpu(round.cpuByRun.passthrough),
    pipeline_cpu_us_per_row: totalCpu(round.cpuByRun.pipeline),
    fused_pipeline_cpu_us_per_row: totalCpu(round.cpuByRun.fused),
    engines_cpu_us_per_row:
      round.figures.engines_cpu_us_per_row === undefined
        ? undefined
        : Math.round(round.figures.engines_cpu_us_per_row),
    pipeline_efficiency: hundredths(efficiencyOf(round)),
  };
}

/** --rounds N: each round's figures, and the medians the JSON line reports. */
function printRoundsTable(
  summaries: Array<Record<string, number | undefined>>,
  efficiency: number | undefined,
): void {
  const cell = (value: number | undefined, digits = 0) => (value === undefined ? '–' : format(value, digits));
  const columns = [
    'kafka_streams_cpu_us_per_row',
    'passthrough_cpu_us_per_row',
    'pipeline_cpu_us_per_row',
    'fused_pipeline_cpu_us_per_row',
    'engines_cpu_us_per_row',
  ];
  const rows: string[][] = summaries.map((summary, i) => [
    `round ${i + 1}`,
    ...columns.map((column) => cell(summary[column])),
    cell(summary.pipeline_efficiency, 2),
  ]);
  rows.unshift([
    '',
    '(c) Kafka Streams',
    '(a) passthrough',
    '(b) pipeline',
    '(d) fused',
    '(f) work alone',
    'efficiency',
  ]);
  rows.push([
    'median',
    ...columns.map((column) => cell(medianOf(summaries.map((summary) => summary[column])))),
    cell(efficiency, 2),
  ]);
  printTable(
    'each round: CPU µs a row of every process, and pipeline_efficiency',
    rows as Array<[string, ...string[]]>,
  );
}

/** CPU a row of a run, without the tracing backend's own (Jaeger's ingest is not the services' cost). */
function servicesCpu(byRole: Record<string, number> | undefined): number | undefined {
  if (!byRole) return undefined;
  return Object.entries(byRole)
    .filter(([role]) => role !== 'jaeger')
    .reduce((sum, [, micros]) => sum + micros, 0);
}

/** --tracing: each traced run against its untraced twin, rows/s and CPU a row (µs). */
function tracingFigures(
  figures: Record<string, number>,
  cpuByRun: Record<string, Record<string, number>>,
  spans: Record<string, number>,
): Record<string, number | Record<string, number>> {
  const out: Record<string, number | Record<string, number>> = {
    tracing_sample_ratio: Number(BENCH_SAMPLE_RATIO),
  };
  for (const [name, label] of [
    ['passthrough', 'passthrough'],
    ['pipeline', 'pipeline'],
  ] as const) {
    const off = figures[`${name}_rows_per_s`];
    const on = figures[`${name}_traced_rows_per_s`];
    if (off === undefined || on === undefined) continue;
    out[`${name}_traced_rows_per_s`] = Math.round(on);
    out[`${name}_tracing_rate_ratio`] = Math.round((on / off) * 1000) / 1000;
    const cpuOff = servicesCpu(cpuByRun[label]);
    const cpuOn = servicesCpu(cpuByRun[`${label}+tracing`]);
    if (cpuOff !== undefined && cpuOn !== undefined) {
      out[`${name}_tracing_cpu_ratio`] = Math.round((cpuOn / cpuOff) * 1000) / 1000;
    }
  }
  out.spans_exported = spans;
  return out;
}

function printTracingTable(traced: Record<string, number | Record<string, number>>): void {
  const rows: Array<[string, string]> = [];
  for (const name of ['passthrough', 'pipeline']) {
    const rate = traced[`${name}_tracing_rate_ratio`];
    if (typeof rate !== 'number') continue;
    rows.push([`(${name === 'passthrough' ? 'a' : 'b'}) ${name}, tracing on ÷ off: rows/s`, format(rate, 3)]);
    const cpu = traced[`${name}_tracing_cpu_ratio`];
    if (typeof cpu === 'number')
      rows.push([
        `(${name === 'passthrough' ? 'a' : 'b'}) ${name}, tracing on ÷ off: CPU a row (without Jaeger)`,
        format(cpu, 3),
      ]);
  }
  const spans = traced.spans_exported as Record<string, number>;
  rows.push([
    'spans Jaeger received, by service',
    Object.entries(spans)
      .map(([service, n]) => `${service} ${n}`)
      .join(', '),
  ]);
  printTable(
    `tracing at a ${Number(BENCH_SAMPLE_RATIO) * 100}% sample (OpenTelemetry over OTLP into Jaeger)`,
    rows,
  );
}
