import { describe, expect, it } from 'vitest';
import { groupIdOf, groupNameOf } from '../../runtime/kafka/group-ids.js';

describe('consumer group ids (one function for every service, run and manifest)', () => {
  it('prefixes the namespace with the topic prefix, and reads the name back', () => {
    expect(groupIdOf('', 'correct')).toBe('emotion-stream.correct');
    expect(groupIdOf('t-1.', 'classify-blue')).toBe('t-1.emotion-stream.classify-blue');
    expect(groupNameOf('t-1.', 't-1.emotion-stream.replay-classify-ab12')).toBe('replay-classify-ab12');
    expect(groupNameOf('t-1.', 'emotion-stream.correct')).toBeUndefined();
    expect(groupNameOf('', 'someone-else')).toBeUndefined();
    expect(groupNameOf('', 'emotion-stream.')).toBeUndefined();
  });
});
