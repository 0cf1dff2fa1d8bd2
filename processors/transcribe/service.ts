import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { ChangelogState, InMemoryState, type KeyedState } from '../../runtime/stage/keyed-state.js';
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
import type { StreamLanguage } from './stream-language.js';
import type { StreamSpeakers } from './stream-speakers.js';

/**
 * The transcribe stage's handler, writing to `outputTopic` (segments.raw, or a replay's) and,
 * when given, its warnings and language decisions to `eventsTopic`. Each stream's language lives
 * and speakers in `state` (in memory unless given: a replay decides and tells voices apart again).
 */
export async function openTranscribeHandler(
  context: ServiceContext<PipelineConfig>,
  outputTopic: string,
  options: {
    eventsTopic?: string;
    state?: { languages: KeyedState<StreamLanguage>; speakers: KeyedState<StreamSpeakers> };
  } = {},
): Promise<OpenedHandler<AudioChunk, TextSegment | StreamEvent>> {
  const { config, logger } = context;
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  const languages = {
    settings: config.transcribe.languageDecision,
    state: options.state?.languages ?? new InMemoryState<StreamLanguage>(),
  };
  const speakers = {
    settings: config.transcribe.speakers,
    state: options.state?.speakers ?? new InMemoryState<StreamSpeakers>(),
  };
  return {
    handler: new TranscribeHandler(
      engine,
      outputTopic,
      config.transcribe.silenceLevel,
      languages,
      options.eventsTopic,
      config.transcribe.speakers.enabled ? speakers : undefined,
    ),
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
  // Each stream's language decision, restored with the partition after a restart or rebalance.
  const languages = new ChangelogState<StreamLanguage>('stream-languages');
  // Each stream's speakers likewise: a restarted instance keeps calling a voice by the same label.
  const speakers = new ChangelogState<StreamSpeakers>('stream-speakers');
  const opened = await openTranscribeHandler(context, output.topic, {
    eventsTopic: events,
    state: { languages, speakers },
  });
  const running = await startStage(context, {
    name: 'transcribe',
    input,
    outputs: [output, { topic: events, schema: avroSchemas.StreamEvent }],
    handler: opened.handler,
    state: [languages as ChangelogState<unknown>, speakers as ChangelogState<unknown>],
  });
  return { ...running, stop: () => running.stop().finally(() => opened.close()) };
}
