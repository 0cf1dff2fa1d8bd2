import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_STAGE_NAMES } from '../processors/stages.js';
import type { Logger } from '../runtime/logger.js';
import { flagsNotSetBy, STREAM_SERVICE_NODE_FLAGS } from '../runtime/service-node-flags.js';
import { ManagedProcess } from '../runtime/stack/managed-process.js';
import { freePort } from '../runtime/stack/ports.js';
import { SINK_NAMES } from '../sinks/index.js';

/** One service process: `emotion-stream <args>`, answering /readyz on the port given in `portVariable`. */
export interface ServiceSpec {
  name: string;
  args: string[];
  /** METRICS_PORT for a stage, GATEWAY_PORT for the gateway. */
  portVariable: string;
  /** Tried first; the next free port above it otherwise. */
  preferredPort: number;
  /** Node flags of its own (STREAM_SERVICE_NODE_FLAGS for the stages and sinks). */
  nodeFlags?: readonly string[];
}

export interface SupervisedService {
  name: string;
  port: number;
  logFile: string;
  pid: number | undefined;
}

const RESTART_DELAY_MS = 2000;

/** The pipeline stages as supervised services, their metrics ports from firstPort upwards. */
export function pipelineStageSpecs(firstPort: number): ServiceSpec[] {
  return PIPELINE_STAGE_NAMES.map((name, i) => ({
    name,
    args: ['stage', name],
    portVariable: 'METRICS_PORT',
    preferredPort: firstPort + i,
    nodeFlags: STREAM_SERVICE_NODE_FLAGS,
  }));
}

/** The sinks as supervised services (named `<sink>-sink`), their metrics ports from firstPort upwards. */
export function sinkSpecs(firstPort: number): ServiceSpec[] {
  return SINK_NAMES.map((name, i) => ({
    name: `${name}-sink`,
    args: ['sink', name],
    portVariable: 'METRICS_PORT',
    preferredPort: firstPort + i,
    nodeFlags: STREAM_SERVICE_NODE_FLAGS,
  }));
}

/**
 * Runs each service (a pipeline stage, the gateway) as its own `emotion-stream` process, as a
 * deployment would, waits until each reports ready, and restarts one that dies until stopped.
 */
export class ServiceSupervisor {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly options: {
      services: readonly ServiceSpec[];
      env: NodeJS.ProcessEnv;
      logDir: string;
      logger: Logger;
      /** The emotion-stream CLI script; defaults to the one running now. */
      cliScript?: string;
      /** More Node flags for every service (a benchmark's --cpu-prof). */
      nodeArgs?: string[];
    },
  ) {}

  async start(timeoutMs = 120_000): Promise<SupervisedService[]> {
    mkdirSync(this.options.logDir, { recursive: true });
    const taken = new Set<number>();
    for (const spec of this.options.services) {
      let port = await freePort(spec.preferredPort);
      while (taken.has(port)) port = await freePort(port + 1);
      taken.add(port);
      this.ports.set(spec.name, port);
      this.launch(spec);
    }
    await Promise.all(
      this.options.services.map(({ name }) =>
        this.processes.get(name)!.waitUntilReady(() => this.ready(name), timeoutMs),
      ),
    );
    return this.options.services.map(({ name }) => ({
      name,
      port: this.ports.get(name)!,
      logFile: this.logFile(name),
      pid: this.processes.get(name)?.pid,
    }));
  }

  private logFile(name: string): string {
    return join(this.options.logDir, `${name}.log`);
  }

  private launch(spec: ServiceSpec): void {
    const { name } = spec;
    // The same entry point and Node flags as this process (works from dist/ and from source via tsx).
    const child = ManagedProcess.start({
      name,
      command: process.execPath,
      args: [
        ...process.execArgv,
        ...flagsNotSetBy(spec.nodeFlags ?? []),
        ...(this.options.nodeArgs ?? []),
        this.options.cliScript ?? process.argv[1]!,
        ...spec.args,
      ],
      env: { ...this.options.env, [spec.portVariable]: String(this.ports.get(name)) },
      logFile: this.logFile(name),
      logger: this.options.logger,
    });
    this.processes.set(name, child);
    void child.exited.then((status) => {
      if (this.stopping) return;
      this.options.logger.error(
        { service: name, ...status, log: this.logFile(name) },
        `${name} exited; restarting in ${RESTART_DELAY_MS / 1000} s`,
      );
      setTimeout(() => {
        if (!this.stopping) this.launch(spec);
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
