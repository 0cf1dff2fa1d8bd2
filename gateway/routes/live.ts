import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import type { CoreEmotion } from '../../schemas/index.js';
import { sendError } from '../http-errors.js';
import type { LiveFilter, LiveHub } from '../live/live-hub.js';

interface LiveQuery {
  streams?: string;
  labels?: string;
  since?: string;
}

interface LiveRequest {
  filter: LiveFilter;
  sinceMs: number | undefined;
}

const KEEPALIVE_MS = 30_000;
/** RFC 6455's "Try Again Later": the server is at its limit of live clients. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

const LIVE_QUERY = {
  type: 'object',
  properties: {
    streams: {
      type: 'string',
      maxLength: 4096,
      description: 'Comma-separated stream ids (default: all streams)',
    },
    labels: {
      type: 'string',
      maxLength: 200,
      description: 'Comma-separated core emotions: only results with one of them as top label',
    },
    since: {
      type: 'string',
      maxLength: 64,
      description: 'First send the kept results committed since then: epoch ms, an ISO time, or -60s',
    },
    access_token: {
      type: 'string',
      description: 'The API key, for browsers (which cannot set headers on a WebSocket)',
    },
  },
} as const;

/** The WebSocket endpoint as an OpenAPI path item (documentation only; the route itself is ws). */
export const LIVE_OPENAPI_PATH = {
  get: {
    summary: 'WebSocket: live EmotionResults as JSON messages',
    description:
      'Upgrade to a WebSocket. The first message is `{"type":"hello","streams","labels","since"}`; then one ' +
      '`{"type":"result","atMs","result"}` per EmotionResult committed to `emotions` that matches the filter, in ' +
      'commit order per stream. A client that leaves more than GATEWAY_LIVE_BUFFER_BYTES unread is closed with code ' +
      '4008 and a reason naming the `since` to reconnect with. Messages from the client larger than 4 kB close it. ' +
      'Past GATEWAY_LIVE_MAX_CLIENTS clients, a new one is closed at once with code 1013 (try again later) and a reason.',
    tags: ['live'],
    parameters: Object.entries(LIVE_QUERY.properties).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      description: schema.description,
      schema: { type: 'string' },
    })),
    responses: {
      101: { description: 'Switching to the WebSocket protocol' },
      400: { description: 'A bad query (unknown label, unreadable since), with the reason' },
      401: { description: 'Missing or invalid API key' },
    },
  },
} as const;

/** The query, checked before the upgrade so a bad one gets a 400 with the reason, not a dead socket. */
function parseLiveQuery(query: LiveQuery, now = Date.now()): LiveRequest | string {
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const streams = list(query.streams);
  const labels = list(query.labels);
  const unknown = labels?.filter((label) => !(CORE_EMOTIONS as readonly string[]).includes(label)) ?? [];
  if (unknown.length > 0)
    return `unknown label ${unknown.join(', ')}: expected some of ${CORE_EMOTIONS.join(', ')}`;
  let sinceMs: number | undefined;
  if (query.since !== undefined) {
    const relative = /^-(\d+)s$/.exec(query.since);
    sinceMs = relative
      ? now - Number(relative[1]) * 1000
      : /^\d+$/.test(query.since)
        ? Number(query.since)
        : Date.parse(query.since);
    if (!Number.isFinite(sinceMs)) {
      return 'since must be epoch milliseconds, an ISO time, or -<seconds>s (such as -60s)';
    }
  }
  return {
    filter: {
      streams: streams?.length ? new Set(streams) : undefined,
      labels: labels?.length ? new Set(labels as CoreEmotion[]) : undefined,
    },
    sinceMs,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    live?: LiveRequest;
  }
}

/**
 * GET /v1/live (WebSocket): committed results as JSON, filtered by stream and top label, fanned
 * out from the gateway's one feed of `emotions`. `since` first replays the recent results kept
 * in memory. Clients send nothing but pings; a larger message closes the socket (ws maxPayload).
 */
export const liveRoutes: FastifyPluginAsync<{ hub: LiveHub; maxClients: number }> = async (
  app,
  { hub, maxClients },
) => {
  app.get<{ Querystring: LiveQuery }>(
    '/live',
    {
      websocket: true,
      // @fastify/websocket hides WebSocket routes from the OpenAPI document; LIVE_OPENAPI_PATH adds it back.
      schema: { querystring: LIVE_QUERY },
      preHandler: async (request: FastifyRequest<{ Querystring: LiveQuery }>, reply) => {
        const parsed = parseLiveQuery(request.query);
        if (typeof parsed === 'string') {
          return sendError(reply, 400, parsed);
        }
        request.live = parsed;
      },
    },
    (socket: WebSocket, request) => {
      if (hub.clientCount >= maxClients) {
        // Accepted, then closed with a reason a browser can read (a refused upgrade shows it none).
        socket.close(CLOSE_TRY_AGAIN_LATER, `too many live clients (limit ${maxClients}); retry later`);
        return;
      }
      const { filter, sinceMs } = request.live!;
      socket.send(
        JSON.stringify({
          type: 'hello',
          streams: filter.streams ? [...filter.streams] : null,
          labels: filter.labels ? [...filter.labels] : null,
          since: sinceMs ?? null,
        }),
      );
      const { remove } = hub.subscribe(socket, filter, sinceMs);
      let alive = true;
      socket.on('pong', () => {
        alive = true;
      });
      const keepalive = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, KEEPALIVE_MS);
      keepalive.unref();
      socket.on('close', () => {
        clearInterval(keepalive);
        remove();
      });
      socket.on('error', () => socket.terminate());
    },
  );
};

export { parseLiveQuery };
