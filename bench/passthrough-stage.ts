/**
 * One passthrough hop of our runtime, the counterpart of bench/kafka-streams/Passthrough.java:
 * an exactly-once stage that copies each TextSegment from one topic to the next (decoded and
 * re-encoded, as every stage does; no engine). Run by `npm run bench -- runtime` as a service of
 * its own: `passthrough-stage.ts <name> <from-topic> <to-topic>`.
 */
import { loadRuntimeConfig } from '../runtime/config/index.js';
import { runService } from '../runtime/service.js';
import { startStage } from '../runtime/stage/run-stage.js';
import { outputs } from '../runtime/stage/types.js';
import { avroSchemas, type TextSegment } from '../schemas/index.js';

const [name, from, to] = process.argv.slice(2);
if (!name || !from || !to) {
  process.stderr.write('usage: passthrough-stage.ts <name> <from-topic> <to-topic>\n');
  process.exit(2);
}

await runService(name, loadRuntimeConfig, (context) =>
  startStage<TextSegment, TextSegment>(context, {
    name,
    input: { topic: from, schema: avroSchemas.TextSegment },
    outputs: [{ topic: to, schema: avroSchemas.TextSegment }],
    handler: {
      process: async (records) =>
        records.map((record) =>
          outputs({ topic: to, key: record.key, value: record.value, headers: record.headers }),
        ),
    },
  }),
);
