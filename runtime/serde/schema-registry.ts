import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import type { SchemaRegistryConfig } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import { RetryableError, UnprocessableRecordError } from '../errors.js';

export type Compatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

/** The registry refused a schema because it breaks the subject's compatibility rule. */
export class IncompatibleSchemaError extends Error {
  override readonly name = 'IncompatibleSchemaError';
  constructor(
    readonly subject: string,
    detail: string,
  ) {
    super(`schema for ${subject} is not compatible with the registered versions: ${detail}`);
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/**
 * A Confluent-compatible Schema Registry (Confluent, Karapace, Apicurio's ccompat API).
 * Registration and schema lookup go through @kafkajs/confluent-schema-registry, which caches
 * schemas by id; subject configuration, which that library does not expose, uses the REST API.
 */
export class SchemaRegistryClient {
  readonly registry: SchemaRegistry;
  private readonly baseUrl: string;
  private readonly authHeader: string | undefined;

  constructor(config: SchemaRegistryConfig) {
    if (!config.url) {
      throw new ConfigError(
        'SCHEMA_REGISTRY_URL',
        'is required (URL of a Confluent-compatible Schema Registry)',
      );
    }
    this.baseUrl = config.url;
    const auth =
      config.username !== undefined
        ? { username: config.username, password: config.password ?? '' }
        : undefined;
    this.authHeader = auth
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : undefined;
    this.registry = new SchemaRegistry({
      host: config.url,
      ...(auth ? { auth } : {}),
      clientId: 'emotion-stream',
      retry: { retries: 2, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 },
    });
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Resolves when the registry answers; throws RetryableError when it does not. */
  async ping(): Promise<void> {
    await this.request('GET', '/subjects');
  }

  /**
   * Sets the subject's compatibility rule, only when it differs. Idempotent and safe when several
   * services start at once: a registry that reports a conflict (Apicurio does, when two requests
   * create the rule together) is asked again, and the rule counts as set if it now holds.
   */
  async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    if ((await this.getCompatibility(subject)) === compatibility) return;
    try {
      await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
    } catch (error) {
      if (!(error instanceof RegistryHttpError && error.status === 409)) throw error;
      if ((await this.getCompatibility(subject)) === compatibility) return;
      await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
    }
  }

  /** The subject's own rule, without falling back to the registry-wide default. */
  async getCompatibility(subject: string): Promise<Compatibility | undefined> {
    try {
      const body = (await this.request(
        'GET',
        `/config/${encodeURIComponent(subject)}?defaultToGlobal=false`,
      )) as {
        compatibilityLevel?: Compatibility;
        compatibility?: Compatibility;
      };
      return body.compatibilityLevel ?? body.compatibility;
    } catch (error) {
      if (error instanceof RegistryHttpError && error.status === 404) {
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Registers an Avro schema under a subject (idempotent: an identical schema returns its existing
   * id) after setting the subject's compatibility, so the rule is in force from the first version.
   */
  async register(
    subject: string,
    schema: object,
    compatibility: Compatibility = 'BACKWARD',
  ): Promise<number> {
    // Apicurio keeps rules per artifact and answers 404 for a subject with no version yet: there,
    // the first version goes in first and the rule right after (nothing to be compatible with yet).
    let ruleSet = true;
    try {
      await this.setCompatibility(subject, compatibility);
    } catch (error) {
      if (!(error instanceof RegistryHttpError && error.status === 404)) throw error;
      ruleSet = false;
    }
    try {
      // normalize=true: Apicurio otherwise matches a schema byte for byte, and the same schema
      // written with its keys in another order would become a new version (issue 21).
      const { id } = (await this.request(
        'POST',
        `/subjects/${encodeURIComponent(subject)}/versions?normalize=true`,
        {
          schema: canonicalJson(schema),
          schemaType: SchemaType.AVRO,
        },
      )) as { id: number };
      if (!ruleSet) await this.setCompatibility(subject, compatibility);
      return id;
    } catch (error) {
      if (statusOf(error) === 409) {
        throw new IncompatibleSchemaError(subject, (error as Error).message);
      }
      if (error instanceof RetryableError) throw error;
      throw this.classify(error, `registering ${subject}`);
    }
  }

  /** Asks the registry whether a schema could be registered as the subject's next version. */
  async isCompatible(subject: string, schema: object): Promise<boolean> {
    try {
      const body = (await this.request(
        'POST',
        `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`,
        {
          schema: JSON.stringify(schema),
        },
      )) as { is_compatible: boolean };
      return body.is_compatible;
    } catch (error) {
      // No version yet: anything is compatible with nothing.
      if (error instanceof RegistryHttpError && error.status === 404) return true;
      throw error;
    }
  }

  async latestVersion(subject: string): Promise<{ id: number; version: number; schema: string } | undefined> {
    try {
      return (await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`)) as {
        id: number;
        version: number;
        schema: string;
      };
    } catch (error) {
      if (error instanceof RegistryHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The writer's Avro type for a schema id (cached after the first lookup). An id the registry does
   * not know makes the record unprocessable; an unreachable registry is only a reason to wait.
   */
  async writerType(id: number): Promise<Type> {
    try {
      return (await this.registry.getSchema(id)) as unknown as Type;
    } catch (error) {
      throw this.classify(error, `fetching schema id ${id}`);
    }
  }

  async encode(id: number, value: unknown): Promise<Buffer> {
    return this.registry.encode(id, value);
  }

  private classify(error: unknown, action: string): Error {
    const status = statusOf(error);
    if (status === 404 || status === 422) {
      return new UnprocessableRecordError(`schema registry: ${action}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new RetryableError(`schema registry unavailable while ${action}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }),
          ...(this.authHeader ? { Authorization: this.authHeader } : {}),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new RetryableError(
        `schema registry at ${this.baseUrl} unreachable: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      const error = new RegistryHttpError(
        response.status,
        `${method} ${path}: HTTP ${response.status} ${text}`,
      );
      if (response.status >= 500) throw new RetryableError(error.message, { cause: error });
      throw error;
    }
    return text ? JSON.parse(text) : undefined;
  }
}

export class RegistryHttpError extends Error {
  override readonly name = 'RegistryHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A schema's JSON with every object's keys sorted (arrays, such as a record's fields, keep their
 * order, which is meaningful): one text per schema whatever order its keys were written in.
 */
export function canonicalJson(value: unknown): string {
  const sorted = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(sorted)
      : node !== null && typeof node === 'object'
        ? Object.fromEntries(
            Object.keys(node)
              .sort()
              .map((key) => [key, sorted((node as Record<string, unknown>)[key])]),
          )
        : node;
  return JSON.stringify(sorted(value));
}
