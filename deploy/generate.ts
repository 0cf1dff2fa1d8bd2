import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { composeFile, prometheusConfig } from './compose.js';
import { k8sManifests } from './manifests.js';

// Writes everything derived from deploy/manifests.ts SERVICES (npm run deploy:generate): the
// Kubernetes manifests of deploy/k8s, docker-compose.yml's services and Prometheus' scrape config.
const root = packageRoot();
const files: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(k8sManifests()).map(([path, text]) => [join('deploy', 'k8s', path), text]),
  ),
  'docker-compose.yml': composeFile(),
  [join('deploy', 'prometheus', 'prometheus.yml')]: prometheusConfig(),
};
for (const [path, text] of Object.entries(files)) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
