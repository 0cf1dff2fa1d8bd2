import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import type { Logger } from '../logger.js';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr of the process go here. */
  logFile: string;
  logger: Logger;
  /** Run as this user (e.g. `postgres`, which refuses to run as root); needs setpriv. */
  user?: string;
}

let setprivAvailable: boolean | undefined;

/** util-linux's setpriv can make the kernel signal the child when we die, even by SIGKILL. */
function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    setprivAvailable =
      process.platform === 'linux' && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  }
  return setprivAvailable;
}

/** setpriv's arguments that switch to `user` (its uid, its group and its supplementary groups). */
export function asUserArgs(user: string): string[] {
  return ['--reuid', user, '--regid', user, '--init-groups'];
}

/**
 * The command line that runs a child which the kernel stops when this process dies, where it can,
 * as `user` when one is given (setpriv applies the death signal after the switch, which clears it).
 */
export function diesWithParent(command: string, args: readonly string[], user?: string): [string, string[]] {
  if (user !== undefined) {
    if (!hasSetpriv()) throw new Error(`running ${command} as ${user} needs setpriv (util-linux)`);
    return ['setpriv', [...asUserArgs(user), '--pdeathsig', 'TERM', '--', command, ...args]];
  }
  return hasSetpriv() ? ['setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, [...args]];
}

export class ProcessExitedError extends Error {
  override readonly name = 'ProcessExitedError';
}

/**
 * A child process we own: its output goes to a log file, it is stopped with SIGTERM and then
 * SIGKILL, and on Linux it receives SIGTERM if this process dies first, so no orphan outlives us.
 */
export class ManagedProcess {
  private readonly child: ChildProcess;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly options: ManagedProcessOptions) {
    const log = openSync(options.logFile, 'a');
    const [command, args] = diesWithParent(options.command, options.args, options.user);
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
      this.child.once('error', (error) => {
        options.logger.error({ err: error, process: options.name }, 'could not start process');
        this.exitStatus = { code: -1, signal: null };
        resolve(this.exitStatus);
      });
    });
  }

  static start(options: ManagedProcessOptions): ManagedProcess {
    options.logger.debug(
      { process: options.name, command: options.command, log: options.logFile },
      'starting',
    );
    return new ManagedProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** The last lines the process wrote, for error messages. */
  logTail(lines = 25): string {
    if (!existsSync(this.options.logFile)) return '';
    return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Polls `probe` until it returns true; fails early if the process exits, or after the timeout. */
  async waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new ProcessExitedError(
          `${this.options.name} exited during start-up (${JSON.stringify(this.exitStatus)}); log ${this.options.logFile}:\n${this.logTail()}`,
        );
      }
      if (await probe().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `${this.options.name} not ready after ${timeoutMs} ms; log ${this.options.logFile}:\n${this.logTail()}`,
    );
  }

  /** SIGTERM (or the server's own stop signal), then SIGKILL if it has not exited within the grace period. */
  async stop(graceMs = 20_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => {
      this.options.logger.warn({ process: this.options.name }, 'did not stop in time; killing');
      this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL, for tests that simulate a crash. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
