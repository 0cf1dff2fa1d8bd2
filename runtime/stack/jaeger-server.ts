import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { packageRoot } from '../package-root.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

/** OTLP/HTTP and Jaeger's query API: the ports a developer's tools expect, when they are free. */
const WELL_KNOWN = { otlp: 4318, query: 16686 } as const;

/**
 * Jaeger v2 all-in-one (OTLP/HTTP receiver, in-memory store, query API), built from its Go module
 * source by deploy/local/install-jaeger.sh into the cache and run on loopback with
 * deploy/jaeger/config.yaml: the tracing backend of `emotion-stream up --tracing` and the tests.
 * A build from module source has no UI assets; the query API (`/api/traces`) is what is read.
 */
export class JaegerServer {
  private constructor(
    /** Where services send spans: OTEL_EXPORTER_OTLP_ENDPOINT. */
    readonly otlpEndpoint: string,
    /** The query API's base URL (`/api/services`, `/api/traces?service=…`). */
    readonly queryUrl: string,
    private readonly process: ManagedProcess,
  ) {}

  /** The binary, built first (a few minutes, once) when it is missing or its pins changed. */
  static ensureBuilt(cacheDir: string, logger: Logger): string {
    const dir = join(cacheDir, 'jaeger');
    const script = join(packageRoot(), 'deploy', 'local', 'install-jaeger.sh');
    if (!existsSync(join(dir, 'jaeger')))
      logger.info({ dir }, 'building Jaeger from its Go modules (a few minutes, once)');
    const build = spawnSync('bash', [script, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0) throw new Error(`could not build Jaeger (${script} exited ${build.status})`);
    return join(dir, 'jaeger');
  }

  static async start(options: {
    cacheDir: string;
    dataDir: string;
    logger: Logger;
    preferWellKnownPorts?: boolean;
  }): Promise<JaegerServer> {
    const binary = JaegerServer.ensureBuilt(options.cacheDir, options.logger);
    mkdirSync(options.dataDir, { recursive: true });
    const taken = new Set<number>();
    const port = async (preferred?: number) => {
      let chosen = await freePort(preferred);
      while (taken.has(chosen)) chosen = await freePort();
      taken.add(chosen);
      return chosen;
    };
    const wellKnown = options.preferWellKnownPorts ?? false;
    const ports = {
      JAEGER_OTLP_PORT: await port(wellKnown ? WELL_KNOWN.otlp : undefined),
      JAEGER_QUERY_PORT: await port(wellKnown ? WELL_KNOWN.query : undefined),
      JAEGER_QUERY_GRPC_PORT: await port(),
      JAEGER_HEALTH_PORT: await port(),
    };
    const server = ManagedProcess.start({
      name: 'jaeger',
      command: binary,
      args: [`--config=file:${join(packageRoot(), 'deploy', 'jaeger', 'config.yaml')}`],
      env: { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      logFile: join(options.dataDir, 'jaeger.log'),
      logger: options.logger,
    });
    const queryUrl = `http://127.0.0.1:${ports.JAEGER_QUERY_PORT}`;
    try {
      await server.waitUntilReady(
        async () => (await fetch(`http://127.0.0.1:${ports.JAEGER_HEALTH_PORT}/status`)).ok,
        30_000,
      );
    } catch (error) {
      await server.kill();
      throw error;
    }
    const otlpEndpoint = `http://127.0.0.1:${ports.JAEGER_OTLP_PORT}`;
    options.logger.info({ otlpEndpoint, queryUrl, pid: server.pid }, 'jaeger ready');
    return new JaegerServer(otlpEndpoint, queryUrl, server);
  }

  /** The variables that send a service's spans here, and tell `emotion-stream trace` where to read them. */
  env(): Record<string, string> {
    return { OTEL_EXPORTER_OTLP_ENDPOINT: this.otlpEndpoint, JAEGER_QUERY_URL: this.queryUrl };
  }

  async stop(): Promise<void> {
    await this.process.stop(10_000);
  }
}
