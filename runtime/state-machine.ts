/**
 * A state and the moves allowed out of each, checked on every move, as kafkajs guards its
 * transactions (src/producer/eosManager/transactionStateMachine.js): one value says what a
 * service is doing instead of several flags that can disagree (issue 20).
 */
export class StateMachine<S extends string> {
  constructor(
    private readonly owner: string,
    private current: S,
    private readonly moves: Readonly<Record<S, readonly S[]>>,
  ) {}

  get state(): S {
    return this.current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `next`; a move the table does not allow is a bug in the caller and throws. */
  moveTo(next: S): void {
    if (!this.moves[this.current].includes(next)) {
      throw new Error(`${this.owner}: cannot go from ${this.current} to ${next}`);
    }
    this.current = next;
  }
}

/** A stage's life: started once, in its group (again after each rebalance), stopped once. */
export type StageState = 'created' | 'starting' | 'joining' | 'running' | 'stopping' | 'stopped';

export const STAGE_MOVES: Readonly<Record<StageState, readonly StageState[]>> = {
  created: ['starting', 'stopping'],
  starting: ['joining', 'stopping'],
  joining: ['running', 'stopping'],
  // A rebalance re-joins: running → running.
  running: ['running', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/**
 * A sink's life: as a stage's, with `draining` before `stopping`: on stop it first writes and
 * commits what it buffered, while still a member of its group (the commit needs the membership).
 */
export type SinkState = 'created' | 'starting' | 'joining' | 'running' | 'draining' | 'stopping' | 'stopped';

export const SINK_MOVES: Readonly<Record<SinkState, readonly SinkState[]>> = {
  created: ['starting', 'draining'],
  starting: ['joining', 'draining'],
  joining: ['running', 'draining'],
  running: ['running', 'draining'],
  draining: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};
