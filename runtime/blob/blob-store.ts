import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient, RestError } from '@azure/storage-blob';
import type { BlobConfig } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import { RetryableError } from '../errors.js';

export interface StoredBlob {
  name: string;
  sizeBytes: number;
}

/** The SDK's own retries cover a blip; a longer outage surfaces as a RetryableError to the caller. */
const SDK_RETRIES = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 };

/**
 * One Azure Blob container, through a connection string (Azurite, the embedded default) or an
 * account URL with DefaultAzureCredential (managed identity, workload identity, az login). Only
 * what the sinks, the model registry and the rollout need: whole-blob put/get/list/delete.
 */
export class BlobStore {
  private constructor(
    private readonly container: ContainerClient,
    readonly containerName: string,
  ) {}

  static connect(config: BlobConfig): BlobStore {
    let service: BlobServiceClient;
    if (config.connectionString) {
      service = BlobServiceClient.fromConnectionString(config.connectionString, {
        retryOptions: SDK_RETRIES,
      });
    } else if (config.accountUrl) {
      service = new BlobServiceClient(config.accountUrl, new DefaultAzureCredential(), {
        retryOptions: SDK_RETRIES,
      });
    } else {
      throw new ConfigError(
        'AZURE_STORAGE_CONNECTION_STRING',
        'or AZURE_STORAGE_ACCOUNT_URL is required to reach Blob storage',
      );
    }
    return new BlobStore(service.getContainerClient(config.container), config.container);
  }

  /** Creates the container when it does not exist yet. */
  async ensureContainer(): Promise<void> {
    await this.call(() => this.container.createIfNotExists());
  }

  /** True when the container answers (readiness). */
  async ping(): Promise<boolean> {
    try {
      return await this.container.exists();
    } catch {
      return false;
    }
  }

  /**
   * Writes a whole blob in one request, so a reader sees the old content or the new one, never a
   * part. With onlyIfAbsent an existing blob is left alone and false is returned.
   */
  async put(
    name: string,
    body: string | Uint8Array,
    options: { contentType?: string; onlyIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      await this.call(() =>
        this.container.getBlockBlobClient(name).upload(data, data.byteLength, {
          blobHTTPHeaders: { blobContentType: options.contentType ?? 'application/octet-stream' },
          ...(options.onlyIfAbsent ? { conditions: { ifNoneMatch: '*' } } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (options.onlyIfAbsent && statusOf(error) === 409) return false;
      throw error;
    }
  }

  /**
   * The blob's bytes, or undefined when there is no such blob. One GET, read whole: the SDK's
   * downloadToBuffer asks for the size first and then downloads ranges, so a blob replaced in
   * between came back torn (a `latest` manifest rewritten while a reader polled it: "Unterminated
   * string in JSON" in a CI run).
   */
  async get(name: string): Promise<Buffer | undefined> {
    try {
      return await this.call(async () => {
        const response = await this.container.getBlockBlobClient(name).download();
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody ?? [])
          chunks.push(Buffer.from(chunk as Buffer));
        return Buffer.concat(chunks);
      });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async getText(name: string): Promise<string | undefined> {
    return (await this.get(name))?.toString('utf8');
  }

  async getJson<T>(name: string): Promise<T | undefined> {
    const text = await this.getText(name);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Every blob whose name starts with the prefix, in name order. */
  async list(prefix: string): Promise<StoredBlob[]> {
    return this.call(async () => {
      const blobs: StoredBlob[] = [];
      for await (const blob of this.container.listBlobsFlat({ prefix })) {
        blobs.push({ name: blob.name, sizeBytes: blob.properties.contentLength ?? 0 });
      }
      return blobs;
    });
  }

  async delete(name: string): Promise<void> {
    await this.call(() => this.container.getBlockBlobClient(name).deleteIfExists());
  }

  /** Runs an SDK call; a storage service that cannot be reached becomes a RetryableError. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const status = statusOf(error);
      // A RestError without a status never reached the service (refused, reset, timed out).
      const unreachable = error instanceof RestError && status === undefined;
      if (unreachable || (status !== undefined && (status === 408 || status === 429 || status >= 500))) {
        throw new RetryableError(`blob storage unavailable: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof RestError) return error.statusCode;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof RestError ? cause.statusCode : undefined;
}
