import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

/** Azurite's documented development account; its key is public and grants nothing outside Azurite. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(blobPort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};`
  );
}

/** Azurite's Blob service, from the project's own node_modules. */
export class BlobEmulator {
  private constructor(
    readonly connectionString: string,
    readonly blobUrl: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(options: {
    dataDir: string;
    logger: Logger;
    preferredPort?: number;
  }): Promise<BlobEmulator> {
    mkdirSync(options.dataDir, { recursive: true });
    const port = await freePort(options.preferredPort);
    const require = createRequire(import.meta.url);
    let azuriteRoot: string;
    try {
      azuriteRoot = dirname(require.resolve('azurite/package.json'));
    } catch {
      // A development dependency (issue 22): production installs point at real Azure Blob storage.
      throw new Error(
        'Azurite is not installed (a development dependency: `npm ci` in a clone installs it); ' +
          'or set AZURE_STORAGE_CONNECTION_STRING to a Blob storage account',
      );
    }
    const server = ManagedProcess.start({
      name: 'azurite',
      command: process.execPath,
      args: [
        join(azuriteRoot, 'dist', 'src', 'blob', 'main.js'),
        '--blobHost',
        '127.0.0.1',
        '--blobPort',
        String(port),
        '--location',
        options.dataDir,
        '--disableTelemetry',
        '--skipApiVersionCheck',
        '--loose',
        '--silent',
      ],
      logFile: join(options.dataDir, 'azurite.log'),
      logger: options.logger,
    });
    const blobUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    try {
      // Any HTTP answer (even 403 without credentials) means the service is listening.
      await server.waitUntilReady(async () => (await fetch(`${blobUrl}?comp=list`)).status > 0, 30_000);
    } catch (error) {
      await server.kill();
      throw error;
    }
    options.logger.info({ blobUrl, pid: server.pid }, 'azurite ready');
    return new BlobEmulator(azuriteConnectionString(port), blobUrl, server);
  }

  async stop(): Promise<void> {
    await this.process.stop(10_000);
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }
}
