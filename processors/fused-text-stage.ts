import type { RunningService, ServiceContext } from '../runtime/service.js';
import { chainHandlers } from '../runtime/stage/chained-handlers.js';
import { startStage } from '../runtime/stage/run-stage.js';
import type { OpenedHandler } from '../runtime/stage/types.js';
import { avroSchemas, topicNames } from '../schemas/index.js';
import { openClassifyHandler } from './classify/service.js';
import type { PipelineConfig } from './config.js';
import { openCorrectHandler } from './correct/service.js';
import { PIPELINE_STAGES } from './stages.js';
import { openTranslateHandler } from './translate/service.js';

/** The text stages, in pipeline order, that the fused mode runs in one process, with their handlers' openers. */
const FUSED = ['correct', 'translate', 'classify'] as const;
const OPENERS: Record<
  (typeof FUSED)[number],
  (context: ServiceContext<PipelineConfig>, output: string) => Promise<OpenedHandler<never, unknown>>
> = {
  correct: openCorrectHandler,
  translate: openTranslateHandler,
  // Its own metrics label, as the classify stage has (PIPELINE_STAGES opens it for replay).
  classify: (context, output) => openClassifyHandler(context, output),
};

/**
 * correct → translate → classify in one process and one transaction per batch (issue 22, an opt-in
 * deployment mode: `emotion-stream stage text-pipeline`). It reads segments.raw and still writes
 * segments.corrected and segments.translated beside the emotions, so replay, audit and the blob
 * sink work as before; it saves two decodes, two encodes and two transactions a batch. Run it
 * instead of the three stages, not beside them: both would write the same results. A cluster
 * that scales classify apart (GPU nodes) keeps the three stages.
 */
export async function startFusedTextService(
  context: ServiceContext<PipelineConfig>,
): Promise<RunningService> {
  const topics = topicNames(context.config.topics.prefix);
  const stages = FUSED.map((name) => PIPELINE_STAGES[name]);
  const opened: OpenedHandler<unknown, unknown>[] = [];
  try {
    for (const [i, stage] of stages.entries())
      opened.push(
        (await OPENERS[FUSED[i]!](context, topics[stage.output])) as OpenedHandler<unknown, unknown>,
      );
  } catch (error) {
    await Promise.all(opened.map((one) => one.close()));
    throw error;
  }
  const closeAll = async () => void (await Promise.all(opened.map((one) => one.close())));
  try {
    const running = await startStage(context, {
      name: 'text-pipeline',
      input: { topic: topics[stages[0]!.input], schema: avroSchemas[stages[0]!.inputSchema] },
      outputs: stages.map((stage) => ({
        topic: topics[stage.output],
        schema: avroSchemas[stage.outputSchema],
      })),
      handler: chainHandlers(
        opened.map((one, i) => ({
          handler: one.handler,
          ...(i + 1 < stages.length ? { feeds: topics[stages[i]!.output] } : {}),
        })),
      ),
    });
    return { ...running, stop: () => running.stop().finally(closeAll) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
