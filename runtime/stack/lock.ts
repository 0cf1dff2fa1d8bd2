import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PinnedArtifact } from './artifacts.js';

export interface ArtifactLock {
  comment: string;
  kafka: { version: string; jars: PinnedArtifact[] };
  apicurio: { version: string; distribution: PinnedArtifact };
  /** Kafka Streams and the one dependency the broker's jars lack: the runtime benchmark only. */
  kafkaStreams: { version: string; comment: string; jars: PinnedArtifact[] };
}

/** Kept beside the code, so a checkout pins exactly the versions its code was tested with. */
export const LOCK_FILE = fileURLToPath(new URL('./artifacts.lock.json', import.meta.url)).replace(
  /\/dist\/runtime\//,
  '/runtime/',
);

export function readArtifactLock(): ArtifactLock {
  return JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as ArtifactLock;
}
