import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { SERVICES } from './manifests.js';

/**
 * docker-compose.yml's application services and Prometheus' scrape targets, from the same
 * description of the services as the Kubernetes manifests (deploy/manifests.ts SERVICES; issue 20:
 * a stage used to be added to the manifests, the compose file and the scrape config by hand).
 * The infrastructure above the marker and the volumes below are written by hand.
 */

type Service = (typeof SERVICES)[number];

const MARKER =
  '  # ---- Generated from deploy/manifests.ts SERVICES by deploy/compose.ts (npm run deploy:generate); edit those. ----\n';
const END = '\nvolumes:\n';

const list = (items: readonly string[]) => `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;

/** Readiness probe of a service's own port, as its Docker health check. */
function healthcheck(port: number): string {
  return [
    '    healthcheck:',
    '      test:',
    '        [',
    '          "CMD",',
    '          "node",',
    '          "-e",',
    `          "fetch('http://127.0.0.1:${port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",`,
    '        ]',
    '      interval: 10s',
    '      timeout: 5s',
    '      retries: 6',
  ].join('\n');
}

function composeService(service: Service): string {
  const lines = [`  ${service.name}:`, '    <<: *service', `    command: ${list(service.args)}`];
  const env = Object.entries(service.env ?? {});
  if (env.length > 0 || service.gateway) {
    lines.push('    environment:', '      <<: *environment');
    for (const [name, value] of env) lines.push(`      ${name}: ${value}`);
    if (service.gateway)
      lines.push(
        '      # Authentication stays on: compose refuses to start without keys.',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own variable syntax, written as is.
        '      GATEWAY_API_KEYS: ${GATEWAY_API_KEYS:?set GATEWAY_API_KEYS (comma-separated keys of 16+ characters)}',
      );
  }
  if (service.gateway) {
    lines.push('    ports:', `      - "${service.port.number}:${service.port.number}"`);
    lines.push(healthcheck(service.port.number));
  }
  // One host port for the gateway: one replica of it here; scale the others with --scale.
  lines.push('    deploy:', `      replicas: ${service.gateway ? 1 : service.replicas}`);
  return lines.join('\n');
}

/** docker-compose.yml with its generated part rebuilt from SERVICES. */
export function composeFile(root = packageRoot()): string {
  const current = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const start = current.indexOf(MARKER);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error('docker-compose.yml lost its generated-section marker');
  const services = SERVICES.map(composeService).join('\n\n');
  return `${current.slice(0, start)}${MARKER}${services}\n${current.slice(end)}`;
}

/** deploy/prometheus/prometheus.yml: every replica of every service, found by DNS, on its port. */
export function prometheusConfig(): string {
  const byPort = new Map<number, { job: string; names: string[] }>();
  for (const service of SERVICES) {
    const job = service.gateway ? 'gateway' : 'stages';
    const entry = byPort.get(service.port.number) ?? { job, names: [] };
    entry.names.push(service.name);
    byPort.set(service.port.number, entry);
  }
  const jobs = [...byPort].map(([port, { job, names }]) =>
    [
      `  - job_name: ${job}`,
      '    dns_sd_configs:',
      `      - names: [${names.join(', ')}]`,
      '        type: A',
      `        port: ${port}`,
    ].join('\n'),
  );
  return [
    '# Prometheus of docker-compose.yml: every replica of every service, found by DNS.',
    '# Generated from deploy/manifests.ts SERVICES by deploy/compose.ts (npm run deploy:generate).',
    'global:',
    '  scrape_interval: 15s',
    '  evaluation_interval: 15s',
    'rule_files:',
    '  - /etc/prometheus/rules/emotion-stream.rules.yml',
    'scrape_configs:',
    ...jobs,
    '',
  ].join('\n');
}
