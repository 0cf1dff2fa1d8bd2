import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuPerRow, snapshotCpu } from '../../bench/process-cpu.js';

// /proc is Linux's; elsewhere the benchmark prints no breakdown and there is nothing to check.
describe.runIf(process.platform === 'linux')('process CPU by role (the runtime benchmark)', () => {
  it('counts this process and a child it started, each under the role it is given', async () => {
    // A child whose command line names its role, busy for a while so that it has CPU to count.
    const child = spawn(process.execPath, [
      '-e',
      'const end = Date.now() + 400; while (Date.now() < end); setTimeout(() => {}, 60_000)',
      'busy child',
    ]);
    try {
      const roleOf = (args: string[], pid: number) =>
        pid === process.pid ? 'me' : args.includes('busy child') ? 'child' : 'other';
      const before = snapshotCpu(roleOf);
      expect(before.has('me')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const after = snapshotCpu(roleOf);
      expect(after.get('child')).toBeGreaterThanOrEqual(100);
      const perRow = cpuPerRow(before, after, 10);
      expect(perRow.child).toBeGreaterThan(0);
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });

  it('turns two snapshots into microseconds per row, leaving out roles under one', () => {
    const before = new Map([
      ['broker', 1_000],
      ['idle', 5],
    ]);
    const after = new Map([
      ['broker', 3_000],
      ['idle', 5],
      ['new', 50],
    ]);
    expect(cpuPerRow(before, after, 1_000)).toEqual({ broker: 2_000, new: 50 });
  });
});
