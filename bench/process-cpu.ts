/**
 * CPU time of this process and every process it started (the broker, the registry, the stages or
 * Kafka Streams' JVMs), read from /proc (Linux), so a benchmark can say which process its CPU went
 * to in the measured window: the process-level profile issue 22 asks for. Elsewhere it reads
 * nothing and the benchmark prints no breakdown.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on every Linux build in use). */
const TICKS_PER_SECOND = 100;

interface ProcessEntry {
  pid: number;
  parent: number;
  cpuMs: number;
  args: string[];
}

function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, field 2, is in parentheses and may hold spaces: fields count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, parent: Number(fields[1]), cpuMs: (ticks * 1000) / TICKS_PER_SECOND, args };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

/** CPU milliseconds by role of this process and its descendants; `roleOf` names each one. */
export type CpuSnapshot = Map<string, number>;

export function snapshotCpu(roleOf: (args: string[], pid: number) => string): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  let entries: ProcessEntry[];
  try {
    entries = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map((name) => readEntry(Number(name)))
      .filter((entry): entry is ProcessEntry => entry !== undefined);
  } catch {
    return snapshot; // no /proc
  }
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of entries) {
    const siblings = children.get(entry.parent);
    if (siblings) siblings.push(entry);
    else children.set(entry.parent, [entry]);
  }
  const own = entries.find((entry) => entry.pid === process.pid);
  const queue = own ? [own] : [];
  while (queue.length > 0) {
    const entry = queue.shift()!;
    const role = roleOf(entry.args, entry.pid);
    snapshot.set(role, (snapshot.get(role) ?? 0) + entry.cpuMs);
    queue.push(...(children.get(entry.pid) ?? []));
  }
  return snapshot;
}

/** Microseconds of CPU per row by role between two snapshots (roles that used under 1 µs left out). */
export function cpuPerRow(before: CpuSnapshot, after: CpuSnapshot, rows: number): Record<string, number> {
  const perRow: Record<string, number> = {};
  for (const [role, ms] of after) {
    const micros = ((ms - (before.get(role) ?? 0)) * 1000) / rows;
    if (micros >= 1) perRow[role] = Math.round(micros);
  }
  return perRow;
}

/** Peak resident memory of a process (VmHWM), in MiB. */
export function peakMemoryMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}
