export * from './events.generated.js';
export * from './topics.js';
