/**
 * How long Kafka has been away: counted from the first failure of an outage until `over()`, so a
 * service rides out a broker restart or a leader election in-process and gives up (KAFKA_OUTAGE_MAX_MS)
 * only on an outage longer than that.
 */
export class Outage {
  private since: number | undefined;

  constructor(private readonly maxMs: number) {}

  /** Counts a failure; true once the outage has lasted longer than the bound. */
  tooLong(): boolean {
    this.since ??= Date.now();
    return Date.now() - this.since > this.maxMs;
  }

  /** Kafka answered again. */
  over(): void {
    this.since = undefined;
  }
}
