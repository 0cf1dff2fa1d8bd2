#!/usr/bin/env node
// Applies the project's fixes to installed dependencies (deploy/patches/README.md). Run by
// `npm install`/`npm ci` (postinstall), by deploy/local/bootstrap.sh on every start and by the
// images' build. Idempotent; refuses a file it does not recognise (another version of the
// dependency) instead of overwriting it.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Where a package is installed for this project (hoisted or not), as Node resolves it. */
function packageDir(name) {
  try {
    return dirname(createRequire(join(root, 'package.json')).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** Each patch: the package, the file in it, its upstream sha256, and the fixed file that replaces it. */
const patches = [
  {
    name: 'kafkajs 2.2.4: a send retried after a leader change acknowledges per partition',
    package: 'kafkajs',
    file: 'src/producer/sendMessages.js',
    upstreamSha256: '8a120e6993955e040a13014cccebd79b8d41e7355d6eda1065fa83fea2fbbcdb',
    replacement: join(here, 'kafkajs', 'sendMessages.js'),
  },
  {
    name: 'kafkajs 2.2.4: the request queue schedules no negative timer (a warning in every process on Node 24)',
    package: 'kafkajs',
    file: 'src/network/requestQueue/index.js',
    upstreamSha256: 'b55986089c14f8f7bfc377922e2e65b3e4c1e7c7af2752d3b10a75dfe9e9260c',
    replacement: join(here, 'kafkajs', 'requestQueue.js'),
  },
  {
    name: 'kafkajs 2.2.4: a producer batch is grouped by partition in linear time',
    package: 'kafkajs',
    file: 'src/producer/groupMessagesPerPartition.js',
    upstreamSha256: 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb',
    replacement: join(here, 'kafkajs', 'groupMessagesPerPartition.js'),
  },
];

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

let failed = false;
for (const patch of patches) {
  const dir = packageDir(patch.package);
  const target = dir && join(dir, patch.file);
  if (!target || !existsSync(target)) {
    process.stderr.write(`patches: ${patch.package}/${patch.file} is not installed; run npm ci first\n`);
    failed = true;
    continue;
  }
  const current = sha256(target);
  if (current === sha256(patch.replacement)) continue;
  // An earlier revision of the same fix (its first line starts with the same marker) is replaced too.
  const marker = (path) => readFileSync(path, 'utf8').split('\n', 1)[0].split(' (')[0];
  const ours = marker(target) === marker(patch.replacement);
  if (current !== patch.upstreamSha256 && !ours) {
    process.stderr.write(
      `patches: ${patch.package}/${patch.file} is not the version the patch was written for (sha256 ${current});` +
        ` review deploy/patches/ for "${patch.name}"\n`,
    );
    failed = true;
    continue;
  }
  copyFileSync(patch.replacement, target);
  process.stderr.write(`patches: applied "${patch.name}"\n`);
}
process.exit(failed ? 1 : 0);
