import { describe, expect, it } from 'vitest';
import { pipelineStageSpecs, sinkSpecs } from '../../cli/service-supervisor.js';
import { flagsNotSetBy, STREAM_SERVICE_NODE_FLAGS } from '../../runtime/service-node-flags.js';

describe('the Node flags of the streaming services', () => {
  it('are given to every stage and sink the supervisor starts', () => {
    for (const spec of [...pipelineStageSpecs(19_000), ...sinkSpecs(19_100)])
      expect(spec.nodeFlags, spec.name).toEqual(STREAM_SERVICE_NODE_FLAGS);
  });

  it("give way to the operator's own setting of the same flag, in NODE_OPTIONS or on the command line", () => {
    const flags = ['--max-semi-space-size=64', '--stack-size=2000'];
    expect(flagsNotSetBy(flags, {})).toEqual(flags);
    expect(flagsNotSetBy(flags, { nodeOptions: '--max-semi-space-size=16 --enable-source-maps' })).toEqual([
      '--stack-size=2000',
    ]);
    expect(flagsNotSetBy(flags, { execArgv: ['--max_semi_space_size=8'] })).toEqual(['--stack-size=2000']);
    expect(flagsNotSetBy(flags, { nodeOptions: '', execArgv: ['--import', 'tsx'] })).toEqual(flags);
  });
});
