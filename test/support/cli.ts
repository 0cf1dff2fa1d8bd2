import { type ChildProcess, spawn } from 'node:child_process';

const children: ChildProcess[] = [];

/** Kills every CLI process a test started (afterEach). */
export function killCliProcesses(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL');
}

/** Runs the CLI from source; `meanwhile` gets the process (to kill it) while it runs. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  meanwhile?: (child: ChildProcess) => Promise<void>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', ...args], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const { stdout, stderr } = outputOf(child);
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout: stdout(), stderr: stderr() })),
  );
  void meanwhile?.(child);
  return exited;
}

/** What a child with piped stdout and stderr has written so far, read at each call. */
export function outputOf(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data) => {
    stdout += data;
  });
  child.stderr!.on('data', (data) => {
    stderr += data;
  });
  return { stdout: () => stdout, stderr: () => stderr };
}
