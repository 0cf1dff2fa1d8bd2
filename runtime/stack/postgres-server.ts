import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { asUserArgs, ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

/** Debian's server refuses to run as root; as root we run it as the user its package creates. */
const SERVER_USER = 'postgres';

/** The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), or POSTGRES_BIN_DIR. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.POSTGRES_BIN_DIR;
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      'PostgreSQL server not found (Debian: apt-get install postgresql; elsewhere set POSTGRES_BIN_DIR ' +
        'to the directory holding initdb and postgres)',
    );
  return join(root, versions[0]!, 'bin');
}

/** The id of a user, or undefined where it does not exist. */
function idOf(user: string, flag: '-u' | '-g'): number | undefined {
  const run = spawnSync('id', [flag, user], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : undefined;
}

/**
 * A PostgreSQL server of its own for the local stack and the tests (Debian's package, like Kafka's
 * jars it is not ours to ship): a fresh cluster in `dataDir`, trust authentication on 127.0.0.1
 * only, its socket inside the data directory. For the PostgreSQL sink (sinks/postgres/).
 */
export class PostgresServer {
  private constructor(
    readonly url: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(options: {
    dataDir: string;
    logger: Logger;
    preferredPort?: number;
  }): Promise<PostgresServer> {
    const bin = postgresBinDir();
    const user = process.getuid?.() === 0 ? SERVER_USER : undefined;
    const dataDir = options.dataDir;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) {
      const [uid, gid] = [idOf(user, '-u'), idOf(user, '-g')];
      if (uid === undefined || gid === undefined)
        throw new Error(`running PostgreSQL as root needs the '${user}' user its Debian package creates`);
      chownSync(dataDir, uid, gid);
    }
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      const initdb = join(bin, 'initdb');
      const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'];
      const run = user
        ? spawnSync('setpriv', [...asUserArgs(user), '--', initdb, ...args], { encoding: 'utf8' })
        : spawnSync(initdb, args, { encoding: 'utf8' });
      if (run.status !== 0)
        throw new Error(
          `initdb failed (exit ${run.status}); the data directory and its parents must be readable by ` +
            `${user ?? 'this user'}:\n${run.stderr || run.error?.message}`,
        );
    }
    const port = await freePort(options.preferredPort);
    const server = ManagedProcess.start({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args: [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dataDir}`,
      ],
      logFile: join(dataDir, '..', `postgres-${port}.log`),
      logger: options.logger,
      ...(user ? { user } : {}),
    });
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await server.waitUntilReady(async () => {
        const client = new pg.Client({ connectionString: url });
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      }, 30_000);
    } catch (error) {
      await server.kill();
      throw error;
    }
    options.logger.info({ url, pid: server.pid }, 'postgres ready');
    return new PostgresServer(url, server);
  }

  /** PostgreSQL's fast shutdown (SIGINT): SIGTERM is its smart one, which waits for every client to leave. */
  async stop(): Promise<void> {
    await this.process.stop(10_000, 'SIGINT');
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }
}
