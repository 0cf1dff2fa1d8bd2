import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import { avroSchemas, topicNames } from '../../schemas/index.js';
import { createTranscriptionEngine } from './pipeline.js';
import { TranscribeHandler } from './stage.js';

/** The transcribe stage as a service: audio.chunks → segments.raw. */
export async function startTranscribeService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const topics = topicNames(config.topics.prefix);
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  const running = await startStage(context, {
    name: 'transcribe',
    input: { topic: topics.audioChunks, schema: avroSchemas.AudioChunk },
    outputs: [{ topic: topics.segmentsRaw, schema: avroSchemas.TextSegment }],
    handler: new TranscribeHandler(engine, topics.segmentsRaw, config.transcribe.silenceLevel),
  });
  return { ...running, stop: () => running.stop().finally(() => engine.close()) };
}
