import { avroSchemas, type EventName, type TopicKey, topicNames } from '../schemas/index.js';

/** What a stage reads and writes. */
export interface StageTopics {
  input: TopicKey;
  output: TopicKey;
  inputSchema: EventName;
  outputSchema: EventName;
}

/**
 * The pipeline's layout, in pipeline order: the one place that says which topic each stage reads and
 * writes (issue 20). The services, replay, the fused text stage and the deployment's autoscaling
 * all read it; it imports no stage, so every stage can.
 */
export const STAGE_TOPOLOGY = {
  transcribe: {
    input: 'audioChunks',
    output: 'segmentsRaw',
    inputSchema: 'AudioChunk',
    outputSchema: 'TextSegment',
  },
  correct: {
    input: 'segmentsRaw',
    output: 'segmentsCorrected',
    inputSchema: 'TextSegment',
    outputSchema: 'TextSegment',
  },
  translate: {
    input: 'segmentsCorrected',
    output: 'segmentsTranslated',
    inputSchema: 'TextSegment',
    outputSchema: 'TextSegment',
  },
  classify: {
    input: 'segmentsTranslated',
    output: 'emotions',
    inputSchema: 'TextSegment',
    outputSchema: 'EmotionResult',
  },
} as const satisfies Record<string, StageTopics>;

export type PipelineStageName = keyof typeof STAGE_TOPOLOGY;

/** A stage's input and output as startStage takes them, under the deployment's topic prefix. */
export function stageTopicsOf(prefix: string, stage: PipelineStageName) {
  const layout: StageTopics = STAGE_TOPOLOGY[stage];
  const topics = topicNames(prefix);
  return {
    input: { topic: topics[layout.input], schema: avroSchemas[layout.inputSchema] },
    output: { topic: topics[layout.output], schema: avroSchemas[layout.outputSchema] },
  };
}
