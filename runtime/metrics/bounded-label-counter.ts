import { Counter, type Registry } from 'prom-client';

/**
 * A counter with one label whose values are unbounded (a stream id, say), kept to at most
 * `maxValues` series sets: the least recently used value's series are removed when a new one
 * comes. Ended streams age out; a long-running deployment never grows without bound. A removed
 * series that comes back starts from zero, which rate() reads as a counter reset.
 */
export class BoundedLabelCounter<L extends string> {
  private readonly counter: Counter<L>;
  /** Bounded label value → the label sets seen with it; Map order is recency. */
  private readonly recent = new Map<string, Map<string, Partial<Record<L, string>>>>();

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly L[];
    boundedLabel: L;
    maxValues: number;
    registry: Registry;
  }) {
    this.counter = new Counter({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [options.registry],
    });
    this.bounded = options.boundedLabel;
    this.maxValues = options.maxValues;
  }

  private readonly bounded: L;
  private readonly maxValues: number;

  inc(labels: Record<L, string>, value = 1): void {
    const key = labels[this.bounded];
    const sets = this.recent.get(key) ?? new Map<string, Partial<Record<L, string>>>();
    this.recent.delete(key);
    this.recent.set(key, sets);
    sets.set(JSON.stringify(labels), labels);
    while (this.recent.size > this.maxValues) {
      const [oldest, oldestSets] = this.recent.entries().next().value!;
      this.recent.delete(oldest);
      for (const set of oldestSets.values()) this.counter.remove(set as Record<L, string>);
    }
    this.counter.inc(labels as Partial<Record<L, string | number>>, value);
  }
}
