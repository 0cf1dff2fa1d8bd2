import type { BlobStore } from '../blob/blob-store.js';
import { RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RolloutPlan, RolloutWeights } from './rollout-plan.js';

/** Where a stage's plan lives: one small JSON blob per stage (and topic prefix). */
export function rolloutPlanBlob(stage: string): string {
  return `rollout/${stage}.json`;
}

/**
 * Adds a weight change to a stage's plan. It takes effect `grace` after now, where grace is the
 * larger of the plan's and the one asked for: every deployment re-reads the plan more often than
 * that, so none can have decided a record under the old weights that the new ones cover.
 */
export async function changeRolloutWeights(
  store: BlobStore,
  options: { stage: string; weights: RolloutWeights; graceMs: number; note?: string; nowMs?: number },
): Promise<RolloutPlan> {
  const name = rolloutPlanBlob(options.stage);
  const current = await store.getJson<RolloutPlan>(name);
  const now = options.nowMs ?? Date.now();
  const graceMs = Math.max(current?.graceMs ?? options.graceMs, options.graceMs);
  const fromMs = Math.max(now + graceMs, ...(current?.changes ?? []).map((c) => c.fromMs + 1));
  const plan: RolloutPlan = {
    stage: options.stage,
    graceMs: options.graceMs,
    changes: [
      ...(current?.changes ?? []),
      { fromMs, weights: options.weights, setAtMs: now, ...(options.note ? { note: options.note } : {}) },
    ],
  };
  await store.put(name, `${JSON.stringify(plan, null, 2)}\n`, { contentType: 'application/json' });
  return plan;
}

export function readRolloutPlan(store: BlobStore, stage: string): Promise<RolloutPlan | undefined> {
  return store.getJson<RolloutPlan>(rolloutPlanBlob(stage));
}

/**
 * A deployment's view of its stage's plan, re-read every `pollMs`. A plan read at time P is
 * complete for records stamped before P + grace (a later change cannot take effect earlier), so
 * `planFor` answers for those and refuses newer records with a RetryableError: the stage waits
 * rather than guess, e.g. while Blob storage is unreachable.
 */
export class RolloutPlanSource {
  private plan: RolloutPlan | undefined;
  private readAtMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly stage: string,
    private readonly options: { pollMs: number; defaultGraceMs: number; logger: Logger },
  ) {}

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  planFor(timestampMs: number): RolloutPlan | undefined {
    const graceMs = this.plan?.graceMs ?? this.options.defaultGraceMs;
    if (this.readAtMs === undefined || timestampMs >= this.readAtMs + graceMs) {
      throw new RetryableError(
        `rollout plan of ${this.stage} not read recently enough to decide a record stamped ${new Date(timestampMs).toISOString()}`,
      );
    }
    return this.plan;
  }

  private async poll(): Promise<void> {
    const startedAt = Date.now();
    try {
      this.plan = await readRolloutPlan(this.store, this.stage);
      this.readAtMs = startedAt;
    } catch (error) {
      this.options.logger.warn(
        { err: error, stage: this.stage },
        'rollout plan not readable; keeping the last one',
      );
    }
  }
}
