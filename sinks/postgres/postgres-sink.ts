import pg from 'pg';
import { EnvReader } from '../../runtime/config/env-reader.js';
import { ConfigError } from '../../runtime/config/errors.js';
import { RetryableError, UnprocessableRecordError } from '../../runtime/errors.js';
import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startSink } from '../../runtime/sink/run-sink.js';
import type { RangeItem, SinkRange, SinkWriter, WriteResult } from '../../runtime/sink/sink-writer.js';
import { WriterBusyError } from '../../runtime/sink/sink-writer.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import { avroSchemas, type EmotionResult, topicNames } from '../../schemas/index.js';

/** One results-table row: where the record came from (the primary key) and what it says. */
interface EmotionRow {
  source_topic: string;
  source_partition: number;
  source_offset: string;
  id: string;
  stream_id: string;
  segment_id: string;
  seq: number;
  language: string;
  top_label: string;
  labels: string[];
  polarity: number | null;
  intensity: number | null;
  model: string;
  produced_at: string;
  result: EmotionResult;
}

/** The table's columns and types (NOT NULL unless marked), in the order jsonb_to_recordset reads them. */
const COLUMNS: ReadonlyArray<readonly [keyof EmotionRow, string, 'null'?]> = [
  ['source_topic', 'text'],
  ['source_partition', 'integer'],
  ['source_offset', 'bigint'],
  ['id', 'text'],
  ['stream_id', 'text'],
  ['segment_id', 'text'],
  ['seq', 'bigint'],
  ['language', 'text'],
  ['top_label', 'text'],
  ['labels', 'text[]'],
  ['polarity', 'real', 'null'],
  ['intensity', 'real', 'null'],
  ['model', 'text'],
  ['produced_at', 'timestamptz'],
  ['result', 'jsonb'],
];

/**
 * SQLSTATE classes that mean "not now": connection exceptions (08), insufficient resources (53:
 * too many connections, disk full), operator intervention (57P01–57P03: shutting down, starting up),
 * serialization and deadlock failures (40001, 40P01).
 */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return (
    code.startsWith('08') || code.startsWith('53') || /^57P0[123]$/.test(code) || /^40(001|P01)$/.test(code)
  );
}

/** True when any string in the value holds U+0000. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasNul);
  return false;
}

/**
 * Writes each EmotionResult as one row of a PostgreSQL table, keyed by its source topic, partition
 * and offset: writing a range again inserts nothing new (ON CONFLICT DO NOTHING), so the sink is
 * exactly-once without a ledger, and a whole range goes in as one statement, all or nothing.
 */
export class PostgresRowsWriter implements SinkWriter<EmotionResult, EmotionRow> {
  readonly target = 'postgres';
  private readonly pool: pg.Pool;
  private readonly insert: string;

  constructor(
    url: string,
    private readonly table: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
    // Idle clients lose their server when it restarts; the pool replaces them, the error must not crash us.
    this.pool.on('error', () => undefined);
    const columns = COLUMNS.map(([name]) => name).join(', ');
    const types = COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
    this.insert =
      `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM jsonb_to_recordset($1::jsonb) AS r(${types}) ` +
      'ON CONFLICT DO NOTHING';
  }

  async open(): Promise<void> {
    const columns = COLUMNS.map(([name, type, nullable]) => `${name} ${type}${nullable ? '' : ' NOT NULL'}`);
    await this.run(() =>
      this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (${columns.join(', ')}, ` +
          'PRIMARY KEY (source_topic, source_partition, source_offset)); ' +
          `CREATE INDEX IF NOT EXISTS ${this.table}_stream ON ${this.table} (stream_id, seq)`,
      ),
    );
  }

  async prepare(records: InputRecord<EmotionResult>[]): Promise<EmotionRow[]> {
    return records.map((record) => {
      const result = record.value;
      // PostgreSQL's text and jsonb cannot hold U+0000: such a record could never be written.
      if (hasNul(result))
        throw new UnprocessableRecordError(
          `result ${result.id} contains a NUL character, which PostgreSQL cannot store`,
        );
      return {
        source_topic: record.topic,
        source_partition: record.partition,
        source_offset: record.offset,
        id: result.id,
        stream_id: result.streamId,
        segment_id: result.segmentId,
        seq: result.seq,
        language: result.language,
        top_label: result.topLabel,
        labels: result.labels,
        polarity: result.sentiment?.polarity ?? null,
        intensity: result.sentiment?.intensity ?? null,
        model: `${result.model.name}:${result.model.version}`,
        produced_at: new Date(record.timestamp).toISOString(),
        result,
      };
    });
  }

  sizeOf(row: EmotionRow): number {
    return Buffer.byteLength(JSON.stringify(row));
  }

  async write(range: SinkRange, items: RangeItem<EmotionRow>[]): Promise<WriteResult> {
    const rows = JSON.stringify(items.map(({ item }) => item));
    await this.run(() => this.pool.query(this.insert, [rows]));
    return {
      names: [`${this.table}:${range.partition}:${range.from}-${range.to}`],
      bytes: Buffer.byteLength(rows),
    };
  }

  async ping(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** Runs a statement; a server that is away or full is waited out by the sink (RetryableError). */
  private async run<R>(statement: () => Promise<R>): Promise<R> {
    try {
      return await statement();
    } catch (error) {
      if ((error as { code?: unknown }).code === '53300')
        throw new WriterBusyError('PostgreSQL has no free connection', 1000, { cause: error });
      if (transient(error))
        throw new RetryableError(`PostgreSQL unavailable: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }
}

/** POSTGRES_URL (required) and POSTGRES_TABLE (default emotion_results), checked at start. */
export function postgresSinkConfig(env: NodeJS.ProcessEnv = process.env): { url: string; table: string } {
  const read = new EnvReader(env);
  const url = read.requiredString(
    'POSTGRES_URL',
    'by the PostgreSQL sink (e.g. postgres://user@host:5432/db)',
  );
  const table = read.string('POSTGRES_TABLE', 'emotion_results');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table))
    throw new ConfigError('POSTGRES_TABLE', `must be a plain lower-case SQL name (got '${table}')`);
  return { url, table };
}

/** The PostgreSQL sink as a service (opt-in): emotions → one row per result in POSTGRES_TABLE. */
export async function startPostgresSinkService(context: ServiceContext): Promise<RunningService> {
  const { url, table } = postgresSinkConfig();
  return startSink(context, {
    name: 'postgres-sink',
    topic: topicNames(context.config.topics.prefix).emotions,
    schema: avroSchemas.EmotionResult,
    writer: () => new PostgresRowsWriter(url, table),
  });
}
