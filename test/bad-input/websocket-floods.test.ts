import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { avroSchemas, type EmotionResult } from '../../schemas/index.js';
import { emotionResult } from '../support/blob.js';
import { gatewayEnv, LiveClient, startGateway } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { counterValue } from '../support/stage.js';
import { produceValues } from '../support/topics.js';

const services = new TestServices();
afterEach(() => services.stopAll());

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('WebSocket floods on /v1/live', () => {
  it('survives a connection flood, a message flood and an oversized message, and keeps serving the others', async () => {
    const { stack, topics } = await pipelineStack('ws-flood', gatewayEnv());
    const { url, metrics } = await startGateway(services, stack);
    const liveUrl = `${url.replace(/^http/, 'ws')}/v1/live?streams=calm`;
    const clients = () => counterValue(metrics, 'gateway_live_clients');

    // A well-behaved viewer, there before the floods and checked after them.
    const viewer = LiveClient.connect(url, 'streams=calm');
    await viewer.opened;

    // 500 connections at once, then dropped without a close handshake (as a crashed client would).
    const flood = Array.from({ length: 500 }, () => new WebSocket(liveUrl));
    await Promise.all(
      flood.map(
        (socket) =>
          new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve());
            socket.once('error', reject);
          }),
      ),
    );
    await until('501 live clients', async () => (await clients()) === 501);
    for (const socket of flood) socket.terminate();
    await until('the dropped clients to be forgotten', async () => (await clients()) === 1);

    // One client sends ten thousand small messages as fast as it can.
    const chatty = new LiveClient(new WebSocket(liveUrl));
    await chatty.opened;
    for (let i = 0; i < 10_000; i++) chatty.socket.send(`ping ${i}`);
    // Another sends one message over the 4 kB limit: closed with 1009 (message too big).
    const oversized = new LiveClient(new WebSocket(liveUrl));
    await oversized.opened;
    oversized.socket.send('x'.repeat(64 * 1024));
    expect((await oversized.closed).code).toBe(1009);

    // Results still reach the viewer (and the chatty client, still connected).
    await produceValues<EmotionResult>(
      stack.kafka,
      stack.registry,
      topics.emotions,
      avroSchemas.EmotionResult,
      [0, 1, 2].map((seq) => ({ key: 'calm', value: emotionResult(`calm:${seq}`, 'calm', seq) })),
    );
    await viewer.waitForResults(3, 30_000);
    expect(viewer.results.map((result) => result.seq)).toEqual([0, 1, 2]);
    await chatty.waitForResults(3, 30_000);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    viewer.close();
    chatty.close();
    await until('every client gone', async () => (await clients()) === 0);
  });

  it('closes a client past GATEWAY_LIVE_MAX_CLIENTS with 1013 and a reason, and takes one again once another leaves', async () => {
    const { stack } = await pipelineStack('ws-cap', { ...gatewayEnv(), GATEWAY_LIVE_MAX_CLIENTS: '3' });
    const { url, metrics } = await startGateway(services, stack);
    const clients = () => counterValue(metrics, 'gateway_live_clients');
    const first = Array.from({ length: 3 }, () => LiveClient.connect(url, 'streams=calm'));
    await Promise.all(first.map((client) => client.opened));
    await until('three live clients', async () => (await clients()) === 3);

    const fourth = LiveClient.connect(url, 'streams=calm');
    expect(await fourth.closed).toEqual({
      code: 1013,
      reason: 'too many live clients (limit 3); retry later',
    });
    expect(await clients()).toBe(3);

    first[0]!.close();
    await until('a place to be free', async () => (await clients()) === 2);
    const again = LiveClient.connect(url, 'streams=calm');
    await again.opened;
    await until('three live clients again', async () => (await clients()) === 3);
    for (const client of [...first.slice(1), again]) client.close();
  });
});
