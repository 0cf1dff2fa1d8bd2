import { describe, expect, it } from 'vitest';
import { STAGE_MOVES, type StageState, StateMachine } from '../../runtime/state-machine.js';

describe("a stage's life as one state (issue 20)", () => {
  it('starts once, joins and re-joins its group, stops once', () => {
    const life = new StateMachine<StageState>('stage t', 'created', STAGE_MOVES);
    for (const next of ['starting', 'joining', 'running', 'running', 'stopping', 'stopped'] as const) {
      life.moveTo(next);
      expect(life.state).toBe(next);
    }
  });

  it('refuses a move the table does not allow, naming the owner and both states', () => {
    const life = new StateMachine<StageState>('stage t', 'created', STAGE_MOVES);
    expect(() => life.moveTo('running')).toThrow('stage t: cannot go from created to running');
    life.moveTo('stopping');
    life.moveTo('stopped');
    expect(() => life.moveTo('starting')).toThrow(/from stopped to starting/);
    expect(life.is('stopping', 'stopped')).toBe(true);
  });
});
