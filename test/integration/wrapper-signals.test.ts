import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputOf } from '../support/cli.js';

/** The environment of a fresh shell: none of the stack variables the test run set. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'AZURE_STORAGE_CONNECTION_STRING'])
    delete env[name];
  return { ...env, ...extra };
}

/** Every process below `root` in the process tree, from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie is dead, only not yet reaped by its parent.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  return condition();
}

describe('a SIGTERM to the npm process', () => {
  it('`npm run up`: stops every process of the stack, in order, and frees its ports', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'up-npm-'));
    const npm = spawn('npm', ['run', '--silent', 'up', '--', '--data-dir', dataDir], {
      env: cleanEnv({ LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { stdout, stderr } = outputOf(npm);
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    expect(await until(() => stdout().includes('Press Ctrl-C to stop.'), 300_000), stderr()).toBe(true);

    const stack = descendants(npm.pid!);
    // Kafka, the registry, Azurite, the four stages, two sinks and the gateway, and `up` itself.
    expect(stack.length).toBeGreaterThanOrEqual(11);
    const ports = [
      /export KAFKA_BROKERS='127\.0\.0\.1:(\d+)'/,
      /export SCHEMA_REGISTRY_URL='http:\/\/127\.0\.0\.1:(\d+)/,
      /BlobEndpoint=http:\/\/127\.0\.0\.1:(\d+)/,
      /Gateway +http:\/\/127\.0\.0\.1:(\d+)/,
    ].map((pattern) => Number(pattern.exec(stdout())?.[1]));
    expect(
      ports.every((port) => port > 0),
      stdout(),
    ).toBe(true);
    expect(await Promise.all(ports.map(answers))).toEqual([true, true, true, true]);

    npm.kill('SIGTERM');
    await exited;
    // Within the stack's shutdown timeout (each process gets 20 s before a SIGKILL): nothing left.
    expect(await until(() => stack.every((pid) => !isAlive(pid)), 90_000)).toBe(true);
    expect(await Promise.all(ports.map(answers))).toEqual([false, false, false, false]);
    expect(stdout()).toContain('SIGTERM: stopping');
    expect(stdout()).toContain('stopped.');
  });

  it('the test wrapper: the command itself gets the signal, and its scratch directory is removed', async () => {
    // What `npm test` runs after npm: the bootstrap in test mode, here with a command that reports
    // its TMPDIR and waits to be stopped.
    const command = `process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); }); console.log('TMPDIR=' + process.env.TMPDIR); setInterval(() => {}, 1000);`;
    const wrapper = spawn('bash', ['deploy/local/bootstrap.sh', '--test', '--', 'node', '-e', command], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { stdout, stderr } = outputOf(wrapper);
    const exited = new Promise<number | null>((resolve) => wrapper.once('exit', (code) => resolve(code)));
    expect(await until(() => stdout().includes('TMPDIR='), 300_000), stderr()).toBe(true);
    const scratch = /TMPDIR=(\S+)/.exec(stdout())![1]!;
    expect(existsSync(scratch)).toBe(true);

    wrapper.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout()).toContain('got SIGTERM');
    expect(await until(() => !existsSync(scratch), 10_000)).toBe(true);
  });
});
