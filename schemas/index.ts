export * from './events.generated.js';
export * from './text-segment.js';
export * from './topics.js';
