import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const RULES = 'deploy/prometheus/emotion-stream.rules.yml';

// promtool comes with Debian's prometheus package, which `npm test` installs (bootstrap --test).
describe('Prometheus rules', () => {
  it('are valid for promtool', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests: every alert fires when it should and stays quiet when it should not', async () => {
    const { stdout, stderr } = await run('promtool', [
      'test',
      'rules',
      'deploy/prometheus/tests/emotion-stream.test.yml',
    ]);
    expect(`${stdout}${stderr}`).toContain('SUCCESS');
  });

  it('give every alert a runbook entry', async () => {
    const { readFileSync } = await import('node:fs');
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const alert of alerts) expect(runbook, alert).toContain(`## ${alert}`);
  });
});
