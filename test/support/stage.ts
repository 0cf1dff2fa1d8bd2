import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { StageConfig } from '../../runtime/config/index.js';
import { StageMetrics } from '../../runtime/metrics/stage-metrics.js';
import { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import type { ChangelogState } from '../../runtime/stage/keyed-state.js';
import type { StageHandler } from '../../runtime/stage/types.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { type TestStack, uniquePrefix } from './stack.js';
import { createTopics } from './topics.js';

/** Settings that make a stage notice a dead peer in seconds rather than half a minute. */
export const FAST_STAGE_ENV = {
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
  STAGE_RETRY_INITIAL_MS: '200',
  STAGE_RETRY_MAX_MS: '2000',
};

/**
 * A stage's topics under a fresh prefix: input and output with `partitions` each, the input's
 * dead-letter topic with one, and the group id the stage under test joins.
 */
export async function stageTopics(stack: TestStack, label: string, partitions: number) {
  const prefix = uniquePrefix(label);
  const input = `${prefix}in`;
  const output = `${prefix}out`;
  await createTopics(stack.kafka, [
    { name: input, partitions },
    { name: output, partitions },
    { name: `${input}.dlq`, partitions: 1 },
  ]);
  return { prefix, input, output, groupId: `${prefix}group` };
}

export function inProcessStage(
  stack: TestStack,
  options: {
    input: string;
    output: string;
    groupId: string;
    handler: StageHandler<TextSegment, TextSegment>;
    settings?: Partial<StageConfig>;
    state?: ReadonlyArray<ChangelogState<unknown>>;
  },
): { stage: ExactlyOnceStage<TextSegment, TextSegment>; metrics: Registry } {
  const metrics = new Registry();
  const stage = new ExactlyOnceStage<TextSegment, TextSegment>({
    name: 'uppercase',
    groupId: options.groupId,
    input: { topic: options.input, schema: avroSchemas.TextSegment },
    deadLetterTopic: `${options.input}.dlq`,
    outputs: [{ topic: options.output, schema: avroSchemas.TextSegment }],
    handler: options.handler,
    kafka: stack.kafka,
    registry: stack.registry,
    logger: stack.logger,
    metrics: new StageMetrics(metrics),
    settings: {
      ...stack.config.stage,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1000,
      retryInitialMs: 200,
      retryMaxMs: 2000,
      ...options.settings,
    },
    ...(options.state ? { state: options.state } : {}),
  });
  return { stage, metrics };
}

export async function counterValue(
  metrics: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await metrics.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * A service as a separate OS process: by default the uppercase stage (test/fixtures/uppercase-stage.ts),
 * or any TypeScript entry point and arguments, such as `cli/run.ts sink blob`.
 */
export class StageProcess {
  private child: ChildProcess | undefined;
  exits = 0;
  /** Resolves when the process started last exits, however it ends. */
  exited: Promise<void> = Promise.resolve();
  /** Resolves when the process started last logs that its service runs (runtime/service.ts). */
  serving: Promise<void> = Promise.resolve();

  constructor(
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly args: string[] = ['test/fixtures/uppercase-stage.ts'],
  ) {}

  start(): void {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, ['--import', 'tsx', ...this.args], {
      env: { ...process.env, METRICS_PORT: '0', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    const child = this.child;
    this.serving = new Promise((resolve) => {
      let seen = '';
      const watch = (chunk: Buffer) => {
        seen = (seen + chunk.toString('utf8')).slice(-4096);
        if (!seen.includes('"msg":"service running"')) return;
        child.stderr?.off('data', watch);
        resolve();
      };
      // Services log JSON lines on stderr (runtime/logger.ts).
      child.stderr?.on('data', watch);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.exits += 1;
        resolve();
      }),
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last error and fatal lines of its log (pino levels 50 and 60): why a service exited. */
  lastErrors(count = 3): string[] {
    let lines: string[];
    try {
      lines = readFileSync(this.logFile, 'utf8').split('\n');
    } catch {
      return [];
    }
    return lines.filter((line) => /"level":(50|60)/.test(line)).slice(-count);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || !this.running) return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    child.kill(signal);
    return exited;
  }
}
