import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ManagedProcess', () => {
  it('takes its child down when the owner is killed with SIGKILL (no orphans)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'managed-'));
    // The owner starts a long-lived child through ManagedProcess, prints its pid, then waits.
    const owner = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { ManagedProcess } from './runtime/stack/managed-process.ts';
         import { silentLogger } from './runtime/logger.ts';
         const child = ManagedProcess.start({ name: 'sleeper', command: 'sleep', args: ['300'], logFile: '${join(dir, 'sleep.log')}', logger: silentLogger() });
         process.stdout.write(String(child.pid) + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const childPid = await new Promise<number>((resolve) =>
      owner.stdout.once('data', (data) => resolve(Number(String(data).trim()))),
    );
    expect(isAlive(childPid)).toBe(true);
    owner.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (isAlive(childPid) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isAlive(childPid)).toBe(false);
  });
});
