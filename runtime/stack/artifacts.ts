import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../logger.js';

/** One file from a Maven repository, pinned by its SHA-256. */
export interface PinnedArtifact {
  /** Path below the repository root, e.g. org/apache/kafka/kafka_2.13/3.9.2/kafka_2.13-3.9.2.jar */
  path: string;
  sha256: string;
  size: number;
}

export class ArtifactVerificationError extends Error {
  override readonly name = 'ArtifactVerificationError';
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** A digest of a whole artifact set, stored next to the cache once every file has been verified. */
export function setDigest(artifacts: readonly PinnedArtifact[]): string {
  return createHash('sha256')
    .update(artifacts.map((a) => `${a.path} ${a.sha256}`).join('\n'))
    .digest('hex');
}

/**
 * Downloads a file to `target`, hashing as it streams; only a file whose SHA-256 matches the pin is
 * moved into place, so a cache never holds a partial or tampered download.
 */
export async function fetchVerified(
  repositoryUrl: string,
  artifact: PinnedArtifact,
  target: string,
): Promise<void> {
  const url = `${repositoryUrl.replace(/\/$/, '')}/${artifact.path}`;
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.part`;
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(300_000) });
      if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status}`);
      const hash = createHash('sha256');
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
      body.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(body, createWriteStream(partial));
      const actual = hash.digest('hex');
      if (actual !== artifact.sha256) {
        rmSync(partial, { force: true });
        throw new ArtifactVerificationError(
          `${url}: SHA-256 ${actual} does not match the pinned ${artifact.sha256}; refusing to use it`,
        );
      }
      renameSync(partial, target);
      return;
    } catch (error) {
      rmSync(partial, { force: true });
      if (error instanceof ArtifactVerificationError) throw error;
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
  throw new Error(`could not download ${url}: ${(lastError as Error)?.message ?? lastError}`, {
    cause: lastError,
  });
}

/**
 * Makes sure every artifact is in `dir` (flat, by file name) and verified. A stamp holding the
 * set's digest records a complete, verified set, so a second start does no network or hashing work.
 */
export async function ensureArtifacts(options: {
  repositoryUrl: string;
  artifacts: readonly PinnedArtifact[];
  dir: string;
  label: string;
  logger: Logger;
}): Promise<{ downloaded: number; reused: boolean }> {
  const { artifacts, dir, label, logger } = options;
  const stamp = join(dir, '.verified');
  const digest = setDigest(artifacts);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) {
    const missing = artifacts.filter((a) => !existsSync(join(dir, fileName(a))));
    if (missing.length === 0) {
      logger.info({ dir, files: artifacts.length }, `${label}: reusing verified cache`);
      return { downloaded: 0, reused: true };
    }
  }
  mkdirSync(dir, { recursive: true });
  const todo: PinnedArtifact[] = [];
  for (const artifact of artifacts) {
    const file = join(dir, fileName(artifact));
    if (existsSync(file) && (await sha256File(file)) === artifact.sha256) continue;
    todo.push(artifact);
  }
  const totalBytes = todo.reduce((sum, a) => sum + a.size, 0);
  logger.info({ files: todo.length, megabytes: Math.round(totalBytes / 1e6) }, `${label}: downloading`);
  let done = 0;
  let doneBytes = 0;
  const queue = [...todo];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await fetchVerified(options.repositoryUrl, next, join(dir, fileName(next)));
      done += 1;
      doneBytes += next.size;
      if (done === todo.length || done % 10 === 0 || next.size > 20e6) {
        logger.info(
          {
            done,
            of: todo.length,
            megabytes: Math.round(doneBytes / 1e6),
            of_megabytes: Math.round(totalBytes / 1e6),
          },
          `${label}: downloaded and verified`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, todo.length) }, worker));
  writeFileSync(stamp, `${digest}\n`);
  return { downloaded: todo.length, reused: false };
}

export function fileName(artifact: PinnedArtifact): string {
  return artifact.path.slice(artifact.path.lastIndexOf('/') + 1);
}
