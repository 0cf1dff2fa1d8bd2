import { describe, expect, it } from 'vitest';
import {
  childTraceHeaders,
  parseTraceparent,
  requestTraceHeaders,
} from '../../runtime/kafka/trace-context.js';

describe('W3C trace context in record headers', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('reads a valid traceparent and refuses malformed ones', () => {
    expect(parseTraceparent(parent)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
    for (const bad of [
      undefined,
      '',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    ])
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
  });

  it('gives an output the same trace and a span of its own, with the tracestate; nothing without a parent', () => {
    const child = childTraceHeaders({ traceparent: parent, tracestate: 'a=1' });
    expect(child.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(child.traceparent).not.toBe(parent);
    expect(child.tracestate).toBe('a=1');
    expect(childTraceHeaders({})).toEqual({});
    expect(childTraceHeaders({ traceparent: 'garbage' })).toEqual({});
  });

  it('continues a request’s trace, or starts a sampled one', () => {
    expect(requestTraceHeaders(parent, undefined)).toEqual({ traceparent: parent });
    expect(requestTraceHeaders(undefined, undefined).traceparent).toMatch(
      /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/,
    );
  });
});
