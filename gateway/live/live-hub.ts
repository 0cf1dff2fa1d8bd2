import type { Counter, Gauge, Registry } from 'prom-client';
import * as prom from 'prom-client';
import type { CoreEmotion, EmotionResult, StreamEvent, TextSegment } from '../../schemas/index.js';

/** What the hub needs of a WebSocket (the `ws` library's WebSocket has all of it). */
export interface LiveSocket {
  /** Bytes queued by send() that the peer has not taken yet. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
}

export interface LiveFilter {
  /** Only results of these streams; all streams when undefined. */
  streams?: ReadonlySet<string> | undefined;
  /** Only results whose top label is one of these; all when undefined. */
  labels?: ReadonlySet<CoreEmotion> | undefined;
}

/** Close code for a client that does not read fast enough (4000–4999 are the application's). */
export const CLOSE_TOO_SLOW = 4008;

interface HistoryEntry {
  result: EmotionResult;
  atMs: number;
  message: string | undefined;
}

interface Client {
  socket: LiveSocket;
  filter: LiveFilter;
}

function matches(filter: LiveFilter, result: EmotionResult): boolean {
  return (
    (!filter.streams || filter.streams.has(result.streamId)) &&
    (!filter.labels || filter.labels.has(result.topLabel))
  );
}

/** The JSON frame a client receives for one result. */
export function resultMessage(result: EmotionResult, atMs: number): string {
  return JSON.stringify({ type: 'result', atMs, result });
}

/**
 * Fans the gateway's one stream of committed results out to every WebSocket client whose filter
 * matches. Memory is bounded twice: the catch-up history is a ring of the last N results, and a
 * client whose unread bytes pass the limit is closed with a reason (it can reconnect with `since`)
 * instead of queueing without end.
 */
export class LiveHub {
  private readonly clients = new Set<Client>();
  /** How many clients name each stream in their filter. */
  private readonly watchers = new Map<string, number>();
  private readonly history: Array<HistoryEntry | undefined>;
  private next = 0;
  private readonly byId = new Map<string, HistoryEntry>();
  private readonly clientsGauge: Gauge;
  private readonly sent: Counter;
  private readonly dropped: Counter;
  private readonly slowClosed: Counter;

  constructor(
    private readonly options: { historySize: number; maxBufferedBytes: number; metrics: Registry },
  ) {
    this.history = new Array(options.historySize);
    const registers = [options.metrics];
    this.clientsGauge = new prom.Gauge({
      name: 'gateway_live_clients',
      help: 'WebSocket clients connected to /v1/live',
      registers,
    });
    this.sent = new prom.Counter({
      name: 'gateway_live_messages_sent_total',
      help: 'Result messages sent to WebSocket clients',
      registers,
    });
    this.dropped = new prom.Counter({
      name: 'gateway_live_messages_dropped_total',
      help: 'Result messages not sent because the client was too slow and was disconnected',
      registers,
    });
    this.slowClosed = new prom.Counter({
      name: 'gateway_live_slow_clients_closed_total',
      help: 'WebSocket clients closed because their unread bytes passed GATEWAY_LIVE_BUFFER_BYTES',
      registers,
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** A result as it was committed to `emotions` (atMs: its record timestamp). */
  publish(result: EmotionResult, atMs: number): void {
    const entry: HistoryEntry = { result, atMs, message: undefined };
    if (this.history.length > 0) {
      const evicted = this.history[this.next];
      if (evicted && this.byId.get(evicted.result.id) === evicted) this.byId.delete(evicted.result.id);
      this.history[this.next] = entry;
      this.next = (this.next + 1) % this.history.length;
      this.byId.set(result.id, entry);
    }
    for (const client of this.clients) {
      if (matches(client.filter, result)) this.deliver(client, entry);
    }
  }

  /**
   * What happened to a stream's ingest (started, ended, failed with why), to the clients watching
   * that stream whatever their label filter. Not kept for catch-up: GET /v1/streams/:id has the state.
   */
  publishEvent(event: StreamEvent): void {
    this.sendToMatching(
      (filter) => !filter.streams || filter.streams.has(event.streamId),
      () => JSON.stringify({ type: 'stream', event }),
    );
  }

  /** True when some client names this stream in its filter (cheap: checked before decoding). */
  isWatched(streamId: string | null): boolean {
    return streamId !== null && this.watchers.has(streamId);
  }

  /**
   * A transcript segment as soon as it is transcribed, before its emotions are known, to the
   * clients that name its stream and filter no labels: live captions arrive a stage earlier.
   */
  publishSegment(segment: TextSegment): void {
    this.sendToMatching(
      (filter) => filter.streams?.has(segment.streamId) === true && !filter.labels,
      () => JSON.stringify({ type: 'segment', segment }),
    );
  }

  /**
   * A message besides the results (kept for no one, counted nowhere) to the clients it matches,
   * encoded once; a client already over its unread limit skips it (its next result closes it).
   */
  private sendToMatching(accepts: (filter: LiveFilter) => boolean, encode: () => string): void {
    let message: string | undefined;
    for (const client of this.clients) {
      if (!accepts(client.filter) || client.socket.bufferedAmount > this.options.maxBufferedBytes) continue;
      message ??= encode();
      client.socket.send(message);
    }
  }

  /** A recent result by id (for feedback that names only the result). */
  recent(resultId: string): EmotionResult | undefined {
    return this.byId.get(resultId)?.result;
  }

  /**
   * Adds a client; with sinceMs it first receives the kept results committed at or after that
   * time. Returns how many it caught up on and the function that removes it.
   */
  subscribe(
    socket: LiveSocket,
    filter: LiveFilter,
    sinceMs?: number,
  ): { caughtUp: number; remove: () => void } {
    const client: Client = { socket, filter };
    let caughtUp = 0;
    if (sinceMs !== undefined) {
      for (const entry of this.oldestFirst()) {
        if (entry.atMs >= sinceMs && matches(filter, entry.result)) {
          if (!this.deliver(client, entry)) return { caughtUp, remove: () => undefined };
          caughtUp += 1;
        }
      }
    }
    this.add(client);
    return { caughtUp, remove: () => this.remove(client) };
  }

  /** Closes every client (the gateway is stopping). */
  closeAll(code: number, reason: string): void {
    for (const client of this.clients) {
      client.socket.close(code, reason);
      this.remove(client);
    }
  }

  private add(client: Client): void {
    this.clients.add(client);
    for (const stream of client.filter.streams ?? [])
      this.watchers.set(stream, (this.watchers.get(stream) ?? 0) + 1);
    this.clientsGauge.set(this.clients.size);
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const stream of client.filter.streams ?? []) {
      const count = (this.watchers.get(stream) ?? 1) - 1;
      if (count > 0) this.watchers.set(stream, count);
      else this.watchers.delete(stream);
    }
    this.clientsGauge.set(this.clients.size);
  }

  private *oldestFirst(): Iterable<HistoryEntry> {
    const size = this.history.length;
    for (let i = 0; i < size; i++) {
      const entry = this.history[(this.next + i) % size];
      if (entry) yield entry;
    }
  }

  /** Sends one result, or closes the client if it already has too much unread; false when closed. */
  private deliver(client: Client, entry: HistoryEntry): boolean {
    if (client.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.dropped.inc();
      this.slowClosed.inc();
      this.remove(client);
      client.socket.close(
        CLOSE_TOO_SLOW,
        `too slow: over ${this.options.maxBufferedBytes} bytes unread; reconnect with since=${entry.atMs}`,
      );
      return false;
    }
    entry.message ??= resultMessage(entry.result, entry.atMs);
    client.socket.send(entry.message);
    this.sent.inc();
    return true;
  }
}
