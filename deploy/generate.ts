import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { k8sManifests } from './manifests.js';

// Writes the generated manifests of deploy/k8s (npm run deploy:generate).
const root = join(packageRoot(), 'deploy', 'k8s');
for (const [path, text] of Object.entries(k8sManifests())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote deploy/k8s/${path}\n`);
}
