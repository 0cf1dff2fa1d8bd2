import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/logger.js';
import {
  ArtifactVerificationError,
  ensureArtifacts,
  type PinnedArtifact,
} from '../../runtime/stack/artifacts.js';
import { readArtifactLock } from '../../runtime/stack/lock.js';

const files: Record<string, Buffer> = {
  'org/example/a/1.0/a-1.0.jar': Buffer.from('first jar'),
  'org/example/b/2.0/b-2.0.jar': Buffer.from('second jar'),
};
const pin = (path: string, content = files[path]!): PinnedArtifact => ({
  path,
  sha256: createHash('sha256').update(content).digest('hex'),
  size: content.length,
});

let server: Server;
let repository: string;
let requests = 0;
beforeAll(async () => {
  // A Maven-layout repository over real HTTP, serving a tampered file at one path.
  server = createServer((request, response) => {
    requests += 1;
    const path = (request.url ?? '').slice(1);
    if (path === 'org/example/evil/1.0/evil-1.0.jar') return void response.end('not what was pinned');
    const body = files[path];
    if (!body) return void response.writeHead(404).end();
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  repository = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ensureArtifacts', () => {
  it('downloads and verifies once, then reuses the verified cache without any request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artifacts-'));
    const artifacts = Object.keys(files).map((path) => pin(path));
    const first = await ensureArtifacts({
      repositoryUrl: repository,
      artifacts,
      dir,
      label: 't',
      logger: silentLogger(),
    });
    expect(first).toEqual({ downloaded: 2, reused: false });
    expect(readdirSync(dir).sort()).toEqual(['.verified', 'a-1.0.jar', 'b-2.0.jar']);
    const before = requests;
    const second = await ensureArtifacts({
      repositoryUrl: repository,
      artifacts,
      dir,
      label: 't',
      logger: silentLogger(),
    });
    expect(second).toEqual({ downloaded: 0, reused: true });
    expect(requests).toBe(before);
  });

  it('refuses a file whose SHA-256 differs from the pin and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artifacts-'));
    const evil = pin('org/example/evil/1.0/evil-1.0.jar', Buffer.from('the real jar'));
    await expect(
      ensureArtifacts({
        repositoryUrl: repository,
        artifacts: [evil],
        dir,
        label: 't',
        logger: silentLogger(),
      }),
    ).rejects.toBeInstanceOf(ArtifactVerificationError);
    expect(existsSync(join(dir, 'evil-1.0.jar'))).toBe(false);
    expect(existsSync(join(dir, '.verified'))).toBe(false);
  });

  it('pins Kafka 3.9.x and a Java 17 Apicurio by SHA-256', () => {
    const lock = readArtifactLock();
    expect(lock.kafka.version).toMatch(/^3\.9\.\d+$/);
    expect(lock.kafka.jars.some((jar) => jar.path.includes(`kafka_2.13-${lock.kafka.version}.jar`))).toBe(
      true,
    );
    for (const artifact of [...lock.kafka.jars, lock.apicurio.distribution]) {
      expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
