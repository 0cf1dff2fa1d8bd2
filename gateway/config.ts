import type { PipelineConfig } from '../processors/config.js';
import type { AudioConfig } from '../producers/audio/config.js';
import { ConfigError, type EnvReader } from '../runtime/config/index.js';

/** The HTTP gateway (see gateway/): REST, WebSocket feed, dashboard. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** Bearer keys accepted on REST and WebSocket; empty means authentication is off. */
  apiKeys: string[];
  /** Largest JSON body accepted. */
  bodyLimitBytes: number;
  /** Largest CSV or audio upload accepted. */
  uploadLimitBytes: number;
  /** Requests per window per API key (or client address without auth); 0 turns the limit off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Most texts in one POST /v1/predict. */
  predictMaxTexts: number;
  /** Bytes a WebSocket client may leave unread before it is disconnected as too slow. */
  liveBufferBytes: number;
  /** Recent results kept for clients that ask to catch up (`since`). */
  liveHistory: number;
  /** WebSocket clients one gateway serves at once; more are closed with 1013 and a reason. */
  liveMaxClients: number;
  /** Where uploads and job results are spooled; defaults to <cache dir>/gateway. */
  dataDir: string | undefined;
  /** Audio inputs (uploads, URLs) one gateway ingests at once. */
  maxStreams: number;
  /**
   * Hosts and networks (CIDR) a stream URL may reach although they are loopback, link-local or
   * private; every other such URL is refused (gateway/streams/url-guard.ts).
   */
  streamUrlAllow: string[];
}

const MIB = 1024 * 1024;

/** The gateway's settings (GATEWAY_*), validated by the one loader (cli/config.ts). */
export function readGatewayConfig(read: EnvReader): GatewayConfig {
  const apiKeys = (read.raw('GATEWAY_API_KEYS') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  for (const key of apiKeys) {
    // Never echo the value: it is a secret.
    if (key.length < 16 || /\s/.test(key)) {
      throw new ConfigError('GATEWAY_API_KEYS', 'each key must be at least 16 characters without spaces');
    }
  }
  return {
    // Without keys anyone who reaches the port can use the API, so it listens on loopback only
    // unless told otherwise, as Jupyter and Grafana do (issue 21); with keys, on every interface.
    host: read.string('GATEWAY_HOST', apiKeys.length > 0 ? '0.0.0.0' : '127.0.0.1'),
    port: read.int('GATEWAY_PORT', 8080, { min: 0, max: 65535 }),
    apiKeys,
    bodyLimitBytes: read.int('GATEWAY_BODY_LIMIT_BYTES', MIB, { min: 1024, max: 1024 * MIB }),
    uploadLimitBytes: read.int('GATEWAY_UPLOAD_LIMIT_BYTES', 512 * MIB, { min: 1024 }),
    rateLimitMax: read.int('GATEWAY_RATE_LIMIT_MAX', 0, { min: 0 }),
    rateLimitWindowMs: read.int('GATEWAY_RATE_LIMIT_WINDOW_MS', 60_000, { min: 100 }),
    predictMaxTexts: read.int('GATEWAY_PREDICT_MAX_TEXTS', 256, { min: 1, max: 100_000 }),
    liveBufferBytes: read.int('GATEWAY_LIVE_BUFFER_BYTES', 4 * MIB, { min: 1024 }),
    liveHistory: read.int('GATEWAY_LIVE_HISTORY', 10_000, { min: 0, max: 10_000_000 }),
    // Each client may hold GATEWAY_LIVE_BUFFER_BYTES (4 MiB) unread: the cap bounds that in total.
    liveMaxClients: read.int('GATEWAY_LIVE_MAX_CLIENTS', 1000, { min: 1, max: 1_000_000 }),
    dataDir: read.optionalString('GATEWAY_DATA_DIR'),
    maxStreams: read.int('GATEWAY_MAX_STREAMS', 16, { min: 0, max: 10_000 }),
    streamUrlAllow: (read.raw('GATEWAY_STREAM_URL_ALLOW') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  };
}

/** The settings the gateway reads: the pipeline's (it classifies and ingests audio itself), its own and audio's. */
export interface GatewayServiceConfig extends PipelineConfig {
  gateway: GatewayConfig;
  audio: AudioConfig;
}
