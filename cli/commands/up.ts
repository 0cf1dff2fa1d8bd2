import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { PIPELINE_STAGE_NAMES } from '../../processors/stages.js';
import { createLogger } from '../../runtime/logger.js';
import { JaegerServer } from '../../runtime/stack/jaeger-server.js';
import { defaultCacheDir, LocalStack } from '../../runtime/stack/local-stack.js';
import { readArtifactLock } from '../../runtime/stack/lock.js';
import { plannedTopics } from '../../schemas/index.js';
import { type Config, loadConfig } from '../config.js';
import { stopWhenOrphaned } from '../parent-watch.js';
import { createPipelineTopics, registerPipelineSchemas } from '../provision.js';
import {
  pipelineStageSpecs,
  type ServiceSpec,
  ServiceSupervisor,
  type SupervisedService,
  sinkSpecs,
} from '../service-supervisor.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start the local system: Kafka (KRaft), a schema registry and Azurite, unless the environment points at ' +
        'running ones; create the topics, register the schemas, print the endpoints; Ctrl-C stops everything',
    )
    .option(
      '--data-dir <dir>',
      'where Kafka, the registry and Azurite keep their data (default: .cache/stack)',
    )
    .option('--fresh', 'delete the data directory first, starting from empty topics')
    .option(
      '--no-stages',
      'start only the infrastructure, not the pipeline stages, the sinks and the gateway',
    )
    .option(
      '--brokers <n>',
      'Kafka nodes: 1 (default), or a KRaft cluster of 3 where topics keep 3 copies with 2 in sync',
      (value: string) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 9) throw new InvalidArgumentError('expected 1 to 9');
        return n;
      },
      1,
    )
    .option(
      '--tracing',
      "start Jaeger (built from its Go modules once, into .cache/jaeger) and send every service's spans to it " +
        '(all requests sampled, unless OTEL_TRACES_SAMPLER says otherwise)',
    )
    .action(
      async (options: {
        dataDir?: string;
        fresh?: boolean;
        stages: boolean;
        brokers: number;
        tracing?: boolean;
      }) => {
        const config = loadConfig();
        const logger = createLogger({ level: config.logLevel, name: 'up' });
        const dataDir = options.dataDir ?? join(defaultCacheDir(config), 'stack');
        if (options.fresh) rmSync(dataDir, { recursive: true, force: true });

        const startedAt = Date.now();
        const stack = await LocalStack.start({
          config,
          dataDir,
          logger,
          preferWellKnownPorts: true,
          brokers: options.brokers,
        });
        let jaeger: JaegerServer | undefined;
        let supervisor: ServiceSupervisor | undefined;
        let stopping: Promise<void> | undefined;
        const stop = (signal: string) => {
          stopping ??= (async () => {
            const what = [
              ...(supervisor ? ['gateway', 'stages'] : []),
              ...(jaeger ? ['jaeger'] : []),
              ...stack.started,
            ];
            process.stdout.write(`\n${signal}: stopping ${what.join(', ') || 'nothing'}...\n`);
            await supervisor?.stop();
            await jaeger?.stop();
            await stack.stop();
            process.stdout.write('stopped.\n');
          })();
          return stopping;
        };
        process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
        process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
        stopWhenOrphaned(() => void stop('parent exited').then(() => process.exit(0)));

        try {
          const provisioned: Config = {
            ...config,
            kafka: { ...config.kafka, brokers: stack.endpoints.kafkaBrokers },
            schemaRegistry: { ...config.schemaRegistry, url: stack.endpoints.schemaRegistryUrl },
          };
          if (options.tracing) {
            jaeger = await JaegerServer.start({
              cacheDir: defaultCacheDir(config),
              dataDir: join(dataDir, 'jaeger'),
              logger,
              preferWellKnownPorts: true,
            });
          }
          const tracingEnv = jaeger
            ? // Locally every request is worth a trace; a deployment keeps the default share.
              { OTEL_TRACES_SAMPLER: 'parentbased_always_on', ...process.env, ...jaeger.env() }
            : {};
          const topics = await createPipelineTopics(provisioned, logger);
          const subjects = await registerPipelineSchemas(provisioned, logger);
          let services: SupervisedService[] = [];
          if (options.stages) {
            const specs: ServiceSpec[] = [
              ...pipelineStageSpecs(config.metricsPort),
              ...sinkSpecs(config.metricsPort + PIPELINE_STAGE_NAMES.length),
              {
                name: 'gateway',
                args: ['gateway'],
                portVariable: 'GATEWAY_PORT',
                preferredPort: config.gateway.port,
              },
            ];
            supervisor = new ServiceSupervisor({
              services: specs,
              // CSV jobs live with the rest of the local data, so --fresh clears them too.
              env: {
                GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
                ...process.env,
                ...tracingEnv,
                ...stack.env(),
              },
              logDir: join(dataDir, 'logs'),
              logger,
            });
            services = await supervisor.start();
          }
          const stages = services.filter(
            (service) => service.name !== 'gateway' && !service.name.endsWith('-sink'),
          );
          const sinks = services.filter((service) => service.name.endsWith('-sink'));
          const gateway = services.find((service) => service.name === 'gateway');
          const lock = readArtifactLock();
          const origin = (name: string) =>
            stack.started.includes(name) ? 'started here' : 'from the environment';
          const lines = [
            '',
            `Emotion Stream is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
            `  Kafka            ${stack.endpoints.kafkaBrokers.join(',')}   Apache Kafka ${lock.kafka.version}, KRaft, ${origin('kafka')}`,
            `  Schema Registry  ${stack.endpoints.schemaRegistryUrl}   Apicurio Registry ${lock.apicurio.version} (Confluent API), ${origin('schema-registry')}`,
            `  Azure Blob       ${blobEndpoint(stack.endpoints.azureStorageConnectionString)}   Azurite, ${origin('azurite')}`,
            `  Topics           ${plannedTopics(config.topics).length} (${topics.created.length} created): ${plannedTopics(
              config.topics,
            )
              .filter((t) => t.value)
              .map((t) => t.name)
              .join(', ')} (+ .dlq each)`,
            `  Schemas          ${subjects.map((s) => `${s.subject}#${s.id}`).join(', ')}`,
            ...(gateway
              ? [
                  `  Gateway          http://127.0.0.1:${gateway.port}   dashboard /, API /v1, docs /docs, live ws /v1/live`,
                  `  Stages           ${stages.map((st) => `${st.name} (metrics :${st.port})`).join(', ')}`,
                  `  Sinks            ${sinks.map((sk) => `${sk.name} (metrics :${sk.port})`).join(', ')} → container ${config.blob.container}`,
                  `                   logs ${join(dataDir, 'logs')}/<service>.log`,
                ]
              : ['  Gateway, stages  not started (--no-stages)']),
            ...(jaeger
              ? [
                  `  Traces           ${jaeger.queryUrl}/api/traces?service=emotion-stream-gateway   Jaeger (query API; a source build has no UI), OTLP ${jaeger.otlpEndpoint}`,
                  '                   emotion-stream trace <trace_id> prints one as a table',
                ]
              : []),
            `  Data             ${dataDir}`,
            '',
            'Point other commands and services at it with:',
            ...Object.entries({ ...stack.env(), ...jaeger?.env() }).map(
              ([name, value]) => `  export ${name}='${value}'`,
            ),
            '',
            'Press Ctrl-C to stop.',
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        } catch (error) {
          await stop('error');
          throw error;
        }
        await new Promise<never>(() => undefined);
      },
    );
}

function blobEndpoint(connectionString: string): string {
  return /BlobEndpoint=([^;]+)/.exec(connectionString)?.[1] ?? '(from AZURE_STORAGE_CONNECTION_STRING)';
}
