import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../runtime/stack/ports.js';
import { avroSchemas } from '../../schemas/index.js';
import { stackEnv, testStack } from '../support/stack.js';
import { FAST_STAGE_ENV, StageProcess, stageTopics } from '../support/stage.js';
import { produceValues, textSegment } from '../support/topics.js';

const processes: StageProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('a stage service process', () => {
  it('serves /healthz, /readyz and /metrics, and exits 0 after a clean SIGTERM shutdown', async () => {
    const stack = testStack();
    const { input, output, groupId } = await stageTopics(stack, 'svc', 2);
    const port = await freePort();
    const logFile = join(mkdtempSync(join(tmpdir(), 'stage-svc-')), 'stage.log');
    const service = new StageProcess(
      stackEnv({
        ...FAST_STAGE_ENV,
        FIXTURE_INPUT_TOPIC: input,
        FIXTURE_OUTPUT_TOPIC: output,
        FIXTURE_GROUP_ID: groupId,
        METRICS_PORT: String(port),
      }),
      logFile,
    );
    processes.push(service);
    service.start();
    const base = `http://127.0.0.1:${port}`;

    const ready = await waitFor(async () => {
      const response = await fetch(`${base}/readyz`);
      return response.status === 200
        ? ((await response.json()) as { checks: Record<string, boolean> })
        : undefined;
    }, 60_000);
    expect(ready.checks).toEqual({ kafka: true, registry: true, 'input readable': true });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await produceValues(
      stack.kafka,
      stack.registry,
      input,
      avroSchemas.TextSegment,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: textSegment(`k${i}`, 'hi') })),
    );
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /stage_records_in_total\{[^}]*stage="uppercase"[^}]*\} 20\b/.test(text) ? text : undefined;
    }, 60_000);
    expect(metrics).toMatch(/stage_records_out_total\{[^}]*\} 20\b/);
    expect(metrics).toMatch(/stage_end_to_end_latency_seconds_count\{[^}]*\} 20\b/);
    expect(metrics).toMatch(/stage_consumer_lag_records\{[^}]*partition="[01]"[^}]*\} 0\b/);
    expect(metrics).toContain('process_cpu_user_seconds_total');

    const exit = await service.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('"msg":"stage stopped"');
  });

  it('refuses to start on bad configuration with one line naming the variable (exit 78)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/uppercase-stage.ts'], {
      env: { ...process.env, ...stackEnv({ KAFKA_BROKERS: 'kafka-without-port' }) },
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      "uppercase-stage: configuration error: KAFKA_BROKERS: must be a comma-separated list of host:port (got 'kafka-without-port')",
    ]);
  });
});
