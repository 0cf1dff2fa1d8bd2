import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { blobFiles, startSink } from '../../runtime/sink/run-sink.js';
import { avroSchemas, topicNames } from '../../schemas/index.js';
import { SINK_INPUTS } from '../sink-inputs.js';
import { EmotionFileRouter } from './emotion-files.js';

/** The blob sink as a service: emotions → `emotions/dt=…/stream=…/part-…jsonl` in Blob. */
export async function startBlobSinkService(context: ServiceContext): Promise<RunningService> {
  const topic = topicNames(context.config.topics.prefix)[SINK_INPUTS.blob];
  return startSink(context, {
    name: 'blob-sink',
    topic,
    schema: avroSchemas.EmotionResult,
    writer: blobFiles(new EmotionFileRouter(topic)),
  });
}
