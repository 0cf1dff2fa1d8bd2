import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type RunningGateway, startGatewayService } from '../../gateway/service.js';
import { startClassifyService } from '../../processors/classify/service.js';
import { startCorrectService } from '../../processors/correct/service.js';
import { startTranscribeService } from '../../processors/transcribe/service.js';
import { startTranslateService } from '../../processors/translate/service.js';
import type { TestServices } from './pipeline.js';
import type { TestStack } from './stack.js';

/** The text stages in-process, so that segments.raw turns into emotions; with audio, transcribe first. */
export async function startTextStages(
  services: TestServices,
  stack: TestStack,
  options: { audio?: boolean } = {},
): Promise<void> {
  const stages = [startCorrectService, startTranslateService, startClassifyService];
  for (const start of options.audio ? [startTranscribeService, ...stages] : stages) {
    await services.start(stack, start);
  }
}

/** Gateway settings for a test: a free port on loopback, a data directory of its own. */
export function gatewayEnv(): Record<string, string> {
  return {
    GATEWAY_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'gateway-')),
  };
}

/** Starts the gateway in-process and waits until it is ready: its live feed has joined its group. */
export async function startGateway(services: TestServices, stack: TestStack) {
  const { service, metrics } = await services.start<RunningGateway>(stack, startGatewayService);
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${service.url}/readyz`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('gateway never became ready');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { gateway: service, url: service.url, metrics };
}

export interface LiveMessage {
  type: string;
  atMs?: number;
  result?: { id: string; streamId: string; topLabel: string; seq: number; originalText: string };
  /** type stream: a stream event (started, ended, warning, language, …). */
  event?: { streamId: string; kind: string; message: string | null; language?: string | null };
}

/** A WebSocket client of /v1/live that keeps every message it receives. */
export class LiveClient {
  readonly messages: LiveMessage[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as LiveMessage));
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  static connect(baseUrl: string, query: string, headers: Record<string, string> = {}): LiveClient {
    return new LiveClient(new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/live?${query}`, { headers }));
  }

  get results() {
    return this.messages.filter((m) => m.type === 'result').map((m) => m.result!);
  }

  /** The stream events received so far. */
  get events() {
    return this.messages.filter((m) => m.type === 'stream').map((m) => m.event!);
  }

  async waitForResults(count: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.results.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.results.length < count) {
      throw new Error(`expected ${count} results on the live feed, got ${this.results.length}`);
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** The status code and reason of a refused WebSocket upgrade. */
export function refusedUpgrade(baseUrl: string, query: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/live?${query}`, { headers });
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
    socket.once('error', () => undefined);
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json: json as Record<string, unknown>, text };
}
