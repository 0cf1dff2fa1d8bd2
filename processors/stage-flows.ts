import type { ServiceContext } from '../runtime/service.js';
import type { StageWork } from '../runtime/stage/types.js';
import type { EventName, TopicKey } from '../schemas/index.js';
import { buildClassifyWork } from './classify/service.js';
import { buildCorrectWork } from './correct/service.js';
import type { PipelineStageName } from './stages.js';
import { buildTranscribeWork } from './transcribe/service.js';
import { buildTranslateWork } from './translate/service.js';

/** What a stage reads and writes, and how its processing is built: what `replay` needs of it. */
export interface StageFlow {
  input: TopicKey;
  output: TopicKey;
  inputSchema: EventName;
  outputSchema: EventName;
  build(context: ServiceContext, outputTopic: string): Promise<StageWork<unknown, unknown>>;
}

export const STAGE_FLOWS: Record<PipelineStageName, StageFlow> = {
  transcribe: {
    input: 'audioChunks',
    output: 'segmentsRaw',
    inputSchema: 'AudioChunk',
    outputSchema: 'TextSegment',
    build: (context, output) => buildTranscribeWork(context, output) as Promise<StageWork<unknown, unknown>>,
  },
  correct: {
    input: 'segmentsRaw',
    output: 'segmentsCorrected',
    inputSchema: 'TextSegment',
    outputSchema: 'TextSegment',
    build: (context, output) => buildCorrectWork(context, output) as Promise<StageWork<unknown, unknown>>,
  },
  translate: {
    input: 'segmentsCorrected',
    output: 'segmentsTranslated',
    inputSchema: 'TextSegment',
    outputSchema: 'TextSegment',
    build: (context, output) => buildTranslateWork(context, output) as Promise<StageWork<unknown, unknown>>,
  },
  classify: {
    input: 'segmentsTranslated',
    output: 'emotions',
    inputSchema: 'TextSegment',
    outputSchema: 'EmotionResult',
    build: (context, output) =>
      buildClassifyWork(context, output, { name: 'replay-classify' }) as Promise<StageWork<unknown, unknown>>,
  },
};
