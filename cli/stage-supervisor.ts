import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { ManagedProcess } from '../runtime/stack/managed-process.js';
import { freePort } from '../runtime/stack/ports.js';

export interface SupervisedStage {
  name: string;
  metricsPort: number;
  logFile: string;
  pid: number | undefined;
}

const RESTART_DELAY_MS = 2000;

/**
 * Runs each pipeline stage as its own `emotion-stream stage <name>` process (as a deployment
 * would), waits until each reports ready, and restarts one that dies until stopped.
 */
export class StageSupervisor {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly options: {
      stages: readonly string[];
      env: NodeJS.ProcessEnv;
      logDir: string;
      logger: Logger;
      /** First metrics port to try; each stage takes the next free one. */
      firstPort: number;
      /** The emotion-stream CLI script; defaults to the one running now. */
      cliScript?: string;
    },
  ) {}

  async start(timeoutMs = 120_000): Promise<SupervisedStage[]> {
    mkdirSync(this.options.logDir, { recursive: true });
    let preferred = this.options.firstPort;
    for (const name of this.options.stages) {
      const port = await freePort(preferred);
      preferred = port + 1;
      this.ports.set(name, port);
      this.launch(name);
    }
    await Promise.all(
      this.options.stages.map((name) =>
        this.processes.get(name)!.waitUntilReady(() => this.ready(name), timeoutMs),
      ),
    );
    return this.options.stages.map((name) => ({
      name,
      metricsPort: this.ports.get(name)!,
      logFile: this.logFile(name),
      pid: this.processes.get(name)?.pid,
    }));
  }

  private logFile(name: string): string {
    return join(this.options.logDir, `stage-${name}.log`);
  }

  private launch(name: string): void {
    // The same entry point and Node flags as this process (works from dist/ and from source via tsx).
    const child = ManagedProcess.start({
      name: `stage ${name}`,
      command: process.execPath,
      args: [...process.execArgv, this.options.cliScript ?? process.argv[1]!, 'stage', name],
      env: { ...this.options.env, METRICS_PORT: String(this.ports.get(name)) },
      logFile: this.logFile(name),
      logger: this.options.logger,
    });
    this.processes.set(name, child);
    void child.exited.then((status) => {
      if (this.stopping) return;
      this.options.logger.error(
        { stage: name, ...status, log: this.logFile(name) },
        `stage ${name} exited; restarting in ${RESTART_DELAY_MS / 1000} s`,
      );
      setTimeout(() => {
        if (!this.stopping) this.launch(name);
      }, RESTART_DELAY_MS).unref();
    });
  }

  private async ready(name: string): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${this.ports.get(name)}/readyz`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.ok;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.processes.values()].map((child) => child.stop()));
  }
}
