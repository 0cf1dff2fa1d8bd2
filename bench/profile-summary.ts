/**
 * Summarises V8 CPU profiles (node --cpu-prof) as a table: self time by function and by package,
 * the text form of a flame graph's widest frames. npm run bench -- profile <file.cpuprofile...>
 * [--last FRACTION] [--top N]: --last 0.5 counts only the samples of each profile's last half by
 * wall time, which leaves out a service's start (module compilation, schema validation) and a
 * benchmark's warm-up rows when its measured window ends the run.
 */
import { readFileSync } from 'node:fs';
import { numberOption, printTable } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, node's internals, or the project. */
function origin(url: string): string {
  if (!url) return '(native / idle)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const project = /\/(runtime|gateway|processors|producers|sinks|schemas|cli|bench)\//.exec(url);
  return project ? `project ${project[1]}/` : url;
}

export function summarise(
  files: string[],
  top = 15,
  lastFraction = 1,
): { byFunction: Array<[string, number]>; byOrigin: Array<[string, number]>; totalMs: number } {
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const span = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
    const from = span * (1 - lastFraction);
    let at = 0;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i] ?? 0;
      if (at < from) return;
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const node = nodes.get(id)!;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)' || functionName === '(program)') return;
      totalMs += ms;
      const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      const where = functionName === '(garbage collector)' ? '(garbage collector)' : origin(url);
      byOrigin.set(where, (byOrigin.get(where) ?? 0) + ms);
    });
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { byFunction: sorted(byFunction), byOrigin: sorted(byOrigin), totalMs };
}

export async function main(): Promise<void> {
  const args = process.argv.slice(3);
  const files = args.filter((arg) => arg.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error('give one or more .cpuprofile files');
  const lastFraction = numberOption('last', 1);
  if (!(lastFraction > 0 && lastFraction <= 1)) throw new Error('--last takes a fraction in (0, 1]');
  const { byFunction, byOrigin, totalMs } = summarise(files, numberOption('top', 15), lastFraction);
  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1)}%`;
  printTable(
    `busy CPU ${totalMs.toFixed(0)} ms by where the code lives (self time)`,
    byOrigin.map(([k, v]) => [k, pct(v)]),
  );
  printTable(
    'widest frames (self time)',
    byFunction.map(([k, v]) => [k, pct(v)]),
  );
}
