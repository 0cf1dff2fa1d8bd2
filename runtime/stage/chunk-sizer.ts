/**
 * How many records the next transaction of a stage takes: as many as its handler gets through in
 * about `targetMs`, at most `maxRecords`. Kafka Streams commits on a time interval
 * (commit.interval.ms) rather than a record count, so a fast engine writes large transactions and
 * a slow one (an LLM corrector, a CPU transcriber) still shows results every interval instead of
 * after hundreds of records. Measured on the pipeline bench (100,000 rows, `bench/RESULTS.md`):
 * a fixed 500 records a transaction ran at 7,800–8,400 rows/s, 2,000 at 9,900 and 5,000 at 11,200.
 */
export class ChunkSizer {
  /** Wall time a record took in recent chunks (exponentially weighted); unknown until one is seen. */
  private msPerRecord: number | undefined;
  private current: number;

  constructor(
    private readonly maxRecords: number,
    private readonly targetMs: number,
    /** The first chunk, before anything is measured: small, so a slow engine's first result is quick. */
    initialRecords = 64,
  ) {
    this.current = Math.max(1, Math.min(maxRecords, initialRecords));
  }

  get size(): number {
    return this.current;
  }

  /**
   * Learns from a chunk of `records` whose work (decode, handle, encode) took `elapsedMs`; the
   * transaction's own cost, paid once a batch, is left out.
   */
  observe(records: number, elapsedMs: number): void {
    if (records <= 0 || !Number.isFinite(elapsedMs) || elapsedMs < 0) return;
    const sample = elapsedMs / records;
    this.msPerRecord = this.msPerRecord === undefined ? sample : 0.7 * this.msPerRecord + 0.3 * sample;
    const fits = this.msPerRecord > 0 ? Math.floor(this.targetMs / this.msPerRecord) : this.maxRecords;
    // At most four times larger per step: a chunk of a few records also pays the transaction's fixed
    // cost, so the first estimates are pessimistic, and growing step by step keeps one lucky
    // measurement from jumping straight to the maximum.
    this.current = Math.max(1, Math.min(this.maxRecords, fits, this.current * 4));
  }
}
