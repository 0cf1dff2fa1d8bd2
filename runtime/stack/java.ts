import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
}

/** The java executable (JAVA_HOME first, then PATH), checked to be version 17 or newer. */
export function findJava(minimumMajor = 17): string {
  const candidates = [process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined, 'java'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const result = spawnSync(candidate, ['-version'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
    const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
    if (major >= minimumMajor) return candidate;
    throw new JavaNotFoundError(
      `${candidate} is Java ${major}; the embedded Kafka and schema registry need Java ${minimumMajor}+ ` +
        '(Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS and SCHEMA_REGISTRY_URL to use running services',
    );
  }
  throw new JavaNotFoundError(
    `no java found (JAVA_HOME or PATH); the embedded Kafka and schema registry need Java ${minimumMajor}+ ` +
      '(Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS and SCHEMA_REGISTRY_URL to use running services',
  );
}
