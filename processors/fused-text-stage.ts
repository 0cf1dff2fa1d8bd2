import type { RunningService, ServiceContext } from '../runtime/service.js';
import { chainHandlers } from '../runtime/stage/chained-handlers.js';
import { startStage } from '../runtime/stage/run-stage.js';
import type { StageWork } from '../runtime/stage/types.js';
import { avroSchemas, topicNames } from '../schemas/index.js';
import { buildClassifyWork } from './classify/service.js';
import { buildCorrectWork } from './correct/service.js';
import { STAGE_FLOWS } from './stage-flows.js';
import { buildTranslateWork } from './translate/service.js';

/** The text stages, in flow order, that the fused mode runs in one process, with their builders. */
const FUSED = ['correct', 'translate', 'classify'] as const;
const BUILDERS: Record<
  (typeof FUSED)[number],
  (context: ServiceContext, output: string) => Promise<StageWork<never, unknown>>
> = {
  correct: buildCorrectWork,
  translate: buildTranslateWork,
  // Its own metrics label, as the classify stage has (STAGE_FLOWS builds it for replay).
  classify: (context, output) => buildClassifyWork(context, output),
};

/**
 * correct → translate → classify in one process and one transaction per batch (issue 22, an opt-in
 * deployment mode: `emotion-stream stage text-pipeline`). It reads segments.raw and still writes
 * segments.corrected and segments.translated beside the emotions, so replay, audit and the blob
 * sink work as before; it saves two decodes, two encodes and two transactions a batch. Run it
 * instead of the three stages, not beside them: both would write the same results. A cluster
 * that scales classify apart (GPU nodes) keeps the three stages.
 */
export async function startFusedTextService(context: ServiceContext): Promise<RunningService> {
  const topics = topicNames(context.config.topics.prefix);
  const flows = FUSED.map((name) => STAGE_FLOWS[name]);
  const works: StageWork<unknown, unknown>[] = [];
  try {
    for (const [i, flow] of flows.entries())
      works.push((await BUILDERS[FUSED[i]!](context, topics[flow.output])) as StageWork<unknown, unknown>);
  } catch (error) {
    await Promise.all(works.map((work) => work.close()));
    throw error;
  }
  const closeAll = async () => void (await Promise.all(works.map((work) => work.close())));
  try {
    const running = await startStage(context, {
      name: 'text-pipeline',
      input: { topic: topics[flows[0]!.input], schema: avroSchemas[flows[0]!.inputSchema] },
      outputs: flows.map((flow) => ({ topic: topics[flow.output], schema: avroSchemas[flow.outputSchema] })),
      handler: chainHandlers(
        works.map((work, i) => ({
          handler: work.handler,
          ...(i + 1 < flows.length ? { feeds: topics[flows[i]!.output] } : {}),
        })),
      ),
    });
    return { ...running, stop: () => running.stop().finally(closeAll) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
