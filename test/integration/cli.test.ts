import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../runtime/stack/kafka-broker.js';
import { plannedTopics } from '../../schemas/index.js';
import { stackEnv, testStack, uniquePrefix } from '../support/stack.js';

const CLI = 'bin/emotion-stream.js';

/** The environment of a fresh shell: none of the stack variables the test run set. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'AZURE_STORAGE_CONNECTION_STRING'])
    delete env[name];
  return { ...env, ...extra };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('emotion-stream CLI', () => {
  it('reports bad configuration in one line naming the variable, with exit code 78', () => {
    for (const [env, variable] of [
      [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS'],
      [{}, 'KAFKA_BROKERS'],
      [{ KAFKA_BROKERS: 'localhost:9092', TOPIC_PARTITIONS: '-3' }, 'TOPIC_PARTITIONS'],
    ] as const) {
      const result = spawnSync(process.execPath, [CLI, 'topics', 'create'], {
        env: cleanEnv(env),
        encoding: 'utf8',
      });
      expect(result.status).toBe(78);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^emotion-stream: configuration error: ${variable}: `));
    }
  });

  it('creates the pipeline topics from their one definition', async () => {
    const prefix = uniquePrefix('cli');
    const env = stackEnv({ TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '3' });
    const result = spawnSync(process.execPath, [CLI, 'topics', 'create'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    const expected = plannedTopics({ prefix, partitions: 3, replicationFactor: 1 });
    expect(result.stdout).toContain(`created ${expected.length}`);
    const admin = testStack().kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: expected.map((t) => t.name) });
    await admin.disconnect();
    for (const topic of expected) {
      expect(metadata.topics.find((t) => t.name === topic.name)?.partitions).toHaveLength(topic.partitions);
    }

    // A topic someone weakened (a day's retention instead of the topology's) is set right again,
    // and the other overrides on it are kept.
    const emotions = `${prefix}emotions`;
    const weakened = testStack().kafka.admin();
    await weakened.connect();
    await weakened.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: emotions,
          configEntries: [
            { name: 'retention.ms', value: '86400000' },
            { name: 'segment.bytes', value: '33554432' },
          ],
        },
      ],
    });
    const again = spawnSync(process.execPath, [CLI, 'topics', 'create'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('created 0');
    expect(again.stdout).toContain('settings fixed 1');
    const described = await weakened.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: emotions }],
    });
    await weakened.disconnect();
    const value = (name: string) =>
      described.resources[0]!.configEntries.find((e) => e.configName === name)?.configValue;
    expect(value('retention.ms')).toBe(expected.find((t) => t.name === emotions)!.config['retention.ms']);
    expect(value('segment.bytes')).toBe('33554432');
    expect(value('min.insync.replicas')).toBe('1');
  });

  it('`up` downloads and verifies once, starts everything, the four stages, the two sinks and the gateway, and stops it all on Ctrl-C and on SIGTERM', async () => {
    // A cache of its own: the first `up` must fetch Kafka and the registry, the second reuse them.
    const cacheDir = mkdtempSync(join(tmpdir(), 'up-cache-'));
    const runs = [];
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'up-data-'));
      const child = spawn(process.execPath, [CLI, 'up', '--data-dir', dataDir], {
        env: cleanEnv({ EMOTION_STREAM_CACHE_DIR: cacheDir, LOG_LEVEL: 'info' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data) => {
        stdout += data;
      });
      child.stderr.on('data', (data) => {
        stderr += data;
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 240_000;
      while (!stdout.includes('Press Ctrl-C to stop.') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(stdout, stderr).toContain('Press Ctrl-C to stop.');
      const bootstrap = /export KAFKA_BROKERS='([^']+)'/.exec(stdout)?.[1];
      expect(bootstrap).toBeDefined();
      expect(await KafkaBroker.answers(bootstrap!)).toBe(true);
      const registryUrl = /export SCHEMA_REGISTRY_URL='([^']+)'/.exec(stdout)?.[1];
      const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
      expect(subjects).toEqual(
        expect.arrayContaining(['segments.raw-value', 'emotions-value', 'feedback-value']),
      );

      const logs = stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; pid: number });
      const pids = ['kafka ready', 'schema registry ready', 'azurite ready'].map(
        (msg) => logs.find((entry) => entry.msg === msg)?.pid,
      );
      expect(pids.every((pid) => typeof pid === 'number' && isAlive(pid))).toBe(true);
      // The four pipeline stages run as their own processes and report ready.
      const stagePorts = [
        ...stdout.matchAll(/(transcribe|correct|translate|classify) \(metrics :(\d+)\)/g),
      ].map((m) => Number(m[2]));
      expect(stagePorts).toHaveLength(4);
      const ready = async (port: number) =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      expect(await Promise.all(stagePorts.map(ready))).toEqual([true, true, true, true]);
      // The two sinks, writing to the embedded Azurite.
      const sinkPorts = [...stdout.matchAll(/(blob-sink|feedback-sink) \(metrics :(\d+)\)/g)].map((m) =>
        Number(m[2]),
      );
      expect(sinkPorts).toHaveLength(2);
      expect(await Promise.all(sinkPorts.map(ready))).toEqual([true, true]);
      // And the gateway, with the dashboard and the API.
      const gatewayPort = Number(/Gateway +http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
      expect(await ready(gatewayPort)).toBe(true);
      const prediction = await fetch(`http://127.0.0.1:${gatewayPort}/v1/predict`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'I am so happy today!' }),
      });
      expect(((await prediction.json()) as { topLabel: string }).topLabel).toBe('joy');

      child.kill(signal);
      expect(await exited).toBe(0);
      expect(stdout).toContain('stopped.');
      expect(pids.filter((pid) => isAlive(pid!))).toEqual([]);
      // Nothing answers any more: not the four stages, not the sinks, not the gateway.
      expect(await Promise.all([...stagePorts, ...sinkPorts, gatewayPort].map(ready))).toEqual(
        Array(7).fill(false),
      );
      runs.push(logs.map((entry) => entry.msg));
    }
    expect(runs[0]).toContain('kafka 3.9.2 jars: downloading');
    expect(runs[0]).toContain('apicurio registry 3.0.9: downloading');
    expect(runs[1]).toContain('kafka 3.9.2 jars: reusing verified cache');
    expect(runs[1]).toContain('apicurio registry 3.0.9: reusing verified cache');
    expect(runs[1]).not.toContain('kafka 3.9.2 jars: downloading');
  });
});
