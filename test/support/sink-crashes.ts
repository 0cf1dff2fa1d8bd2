import { avroSchemas, type EmotionResult } from '../../schemas/index.js';
import { emotionResult } from './blob.js';
import type { TestStack } from './stack.js';
import { StageProcess } from './stage.js';
import { produceValues } from './topics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settings of a sink under the crash scenario below. */
export const SINK_CRASH_ENV = {
  // Ranges cut by time: a restarted sink, buffering more at once, would cut other ranges than its
  // predecessor unless its writer makes rewriting a range harmless.
  SINK_FLUSH_BYTES: '10000000',
  SINK_FLUSH_INTERVAL_MS: '300',
  STAGE_RETRY_INITIAL_MS: '100',
  // A killed sink's partitions move to its successor as soon as its session ends.
  KAFKA_SESSION_TIMEOUT_MS: '3000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '500',
  LOG_LEVEL: 'info',
};

/**
 * Starts `emotion-stream sink <sink>` as its own process with `fixture` preloaded, which kills the
 * process right after its Nth write (N in `dieAfterVariable`); each process started is pushed
 * onto `started` so the test can kill what is left.
 */
export function crashingSink(options: {
  env: Record<string, string>;
  logFile: string;
  fixture: string;
  dieAfterVariable: string;
  sink: string;
  started: StageProcess[];
}): (dieAfterWrites: number) => StageProcess {
  return (dieAfterWrites) => {
    const sink = new StageProcess(
      { ...options.env, [options.dieAfterVariable]: String(dieAfterWrites) },
      options.logFile,
      ['--import', options.fixture, 'cli/run.ts', 'sink', options.sink],
    );
    options.started.push(sink);
    sink.start();
    return sink;
  };
}

/**
 * The sinks' exactly-once scenario: results keep arriving on `topic`, 50 every 250 ms, while
 * `rounds` sink processes in turn kill themselves right after their Nth write (N from 1 to 4, at
 * random; `startSink(N)` starts one), each SIGKILLed after 30 s if it has not. Then `afterwards`
 * adds the records no writer can take, and a last sink that does not die is started. Returns the
 * results produced and how many rounds ended by the sink's own kill.
 */
export async function produceWhileSinkCrashes(options: {
  stack: TestStack;
  topic: string;
  startSink: (dieAfterWrites: number) => StageProcess;
  afterwards: () => Promise<void>;
  rounds?: number;
}): Promise<{ results: EmotionResult[]; selfKills: number }> {
  const { stack, topic, startSink } = options;
  const rounds = options.rounds ?? 5;
  const results: EmotionResult[] = [];
  let round = 0;
  const producing = (async () => {
    while (round < rounds) {
      const chunk = Array.from({ length: 50 }, (_, k) => {
        const i = results.length + k;
        return emotionResult(`seg-${i}`, `stream-${i % 5}`, i);
      });
      results.push(...chunk);
      await produceValues(
        stack.kafka,
        stack.registry,
        topic,
        avroSchemas.EmotionResult,
        chunk.map((value) => ({ key: value.streamId, value })),
      );
      await sleep(250);
    }
    await options.afterwards();
  })();

  let selfKills = 0;
  for (; round < rounds; round++) {
    const sink = startSink(1 + Math.floor(Math.random() * 4));
    const died = await Promise.race([sink.exited.then(() => true), sleep(30_000).then(() => false)]);
    if (died) selfKills += 1;
    else await sink.kill('SIGKILL');
  }
  await producing;
  startSink(0);
  return { results, selfKills };
}
