import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import type { OpenedHandler } from '../../runtime/stage/types.js';
import {
  type AudioChunk,
  avroSchemas,
  type StreamEvent,
  type TextSegment,
  topicNames,
} from '../../schemas/index.js';
import type { PipelineConfig } from '../config.js';
import { stageTopicsOf } from '../stage-topology.js';
import { createTranscriptionEngine } from './pipeline.js';
import { TranscribeHandler } from './stage.js';

/**
 * The transcribe stage's handler, writing to `outputTopic` (segments.raw, or a replay's) and,
 * when given, its warnings to `eventsTopic`.
 */
export async function openTranscribeHandler(
  context: ServiceContext<PipelineConfig>,
  outputTopic: string,
  eventsTopic?: string,
): Promise<OpenedHandler<AudioChunk, TextSegment | StreamEvent>> {
  const { config, logger } = context;
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  return {
    handler: new TranscribeHandler(engine, outputTopic, config.transcribe.silenceLevel, eventsTopic),
    close: () => engine.close(),
  };
}

/** The transcribe stage as a service: audio.chunks → segments.raw. */
export async function startTranscribeService(
  context: ServiceContext<PipelineConfig>,
): Promise<RunningService> {
  const { input, output } = stageTopicsOf(context.config.topics.prefix, 'transcribe');
  // Stream events (a stream started, fell silent, ended) go beside the segments, to their own topic.
  const events = topicNames(context.config.topics.prefix).streamEvents;
  const opened = await openTranscribeHandler(context, output.topic, events);
  const running = await startStage(context, {
    name: 'transcribe',
    input,
    outputs: [output, { topic: events, schema: avroSchemas.StreamEvent }],
    handler: opened.handler,
  });
  return { ...running, stop: () => running.stop().finally(() => opened.close()) };
}
