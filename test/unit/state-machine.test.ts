import { describe, expect, it } from 'vitest';
import {
  SINK_MOVES,
  type SinkState,
  STAGE_MOVES,
  type StageState,
  StateMachine,
} from '../../runtime/state-machine.js';

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

describe("a sink's life (issue 20)", () => {
  it('drains what it buffered before it stops, from any state, and only once', () => {
    const life = new StateMachine<SinkState>('sink s', 'created', SINK_MOVES);
    for (const next of ['starting', 'joining', 'running', 'draining', 'stopping', 'stopped'] as const) {
      life.moveTo(next);
    }
    expect(life.state).toBe('stopped');
    const early = new StateMachine<SinkState>('sink s', 'created', SINK_MOVES);
    early.moveTo('starting');
    early.moveTo('draining');
    expect(() => early.moveTo('draining')).toThrow('sink s: cannot go from draining to draining');
    expect(() => early.moveTo('running')).toThrow(/from draining to running/);
  });
});
