import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassifyService } from '../../processors/classify/service.js';
import { startServiceEndpoints } from '../../runtime/http/service-endpoints.js';
import { createLogger } from '../../runtime/logger.js';
import { ManagedProcess } from '../../runtime/stack/managed-process.js';
import { freePort } from '../../runtime/stack/ports.js';
import { avroSchemas } from '../../schemas/index.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { produceValues, textSegment } from '../support/topics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const services = new TestServices();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await services.stopAll();
});

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

describe('alerts on a live stack', () => {
  it('a real Prometheus scraping the classify stage fires the anger alert for the angry stream only', async () => {
    const { stack, topics } = await pipelineStack('alerts');
    const { service, metrics } = await services.start(stack, startClassifyService);
    const endpoints = await startServiceEndpoints({
      port: 0,
      host: '127.0.0.1',
      metrics,
      checks: service.checks,
    });
    cleanups.push(() => endpoints.close());

    const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    const port = await freePort(19090);
    // The shipped rules as they are; only the scrape and evaluation intervals are short.
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${resolve('deploy/prometheus/emotion-stream.rules.yml')}']`,
        'scrape_configs:',
        `  - { job_name: classify, static_configs: [{ targets: ['127.0.0.1:${endpoints.port}'] }] }`,
        '',
      ].join('\n'),
    );
    const prometheus = ManagedProcess.start({
      name: 'prometheus',
      command: 'prometheus',
      args: [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      logFile: join(dir, 'prometheus.log'),
      logger: createLogger({ level: 'silent', name: 'prometheus' }),
    });
    cleanups.push(() => prometheus.stop(10_000));
    const api = `http://127.0.0.1:${port}/api/v1`;
    await prometheus.waitUntilReady(async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, 60_000);

    // Two streams for 40 s at most: one mostly angry, one calm.
    let seq = 0;
    let firing: Alert[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const batch = Array.from({ length: 4 }, (_, i) => {
        const n = seq++;
        const angry = textSegment(
          `angry-${n}`,
          i < 3 ? 'I am furious, this is outrageous and I hate it!' : 'Fine.',
          n,
        );
        const calm = textSegment(`calm-${n}`, 'What a lovely sunny morning, I am so happy.', n);
        return [
          { key: 'angry-call', value: { ...angry, streamId: 'angry-call' } },
          { key: 'calm-call', value: { ...calm, streamId: 'calm-call' } },
        ];
      }).flat();
      await produceValues(
        stack.kafka,
        stack.registry,
        topics.segmentsTranslated,
        avroSchemas.TextSegment,
        batch,
      );
      const alerts = (await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: Alert[] } };
      firing = alerts.data.alerts.filter(
        (a) => a.labels.alertname === 'StreamEmotionShareHigh' && a.state === 'firing',
      );
      if (firing.length > 0) break;
      await sleep(1000);
    }
    expect(firing.map((a) => [a.labels.stream, a.labels.emotion, a.labels.severity])).toEqual([
      ['angry-call', 'anger', 'info'],
    ]);
    // The series behind it, as Prometheus scraped it.
    const query = await fetch(
      `${api}/query?query=${encodeURIComponent('sum by (stream) (emotion_results_total)')}`,
    );
    const streams = (
      (await query.json()) as { data: { result: Array<{ metric: { stream: string } }> } }
    ).data.result.map((r) => r.metric.stream);
    expect(streams.sort()).toEqual(['angry-call', 'calm-call']);
  });
});
