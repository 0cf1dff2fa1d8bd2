import { afterEach, describe, expect, it } from 'vitest';
import { startClassifyService } from '../../processors/classify/service.js';
import { startCorrectService } from '../../processors/correct/service.js';
import { startTranscribeService } from '../../processors/transcribe/service.js';
import { startTranslateService } from '../../processors/translate/service.js';
import { DLQ_HEADERS } from '../../runtime/kafka/dead-letter.js';
import { AvroDecoder, AvroEncoder } from '../../runtime/serde/avro-serde.js';
import {
  type AudioChunk,
  avroSchemas,
  type EmotionResult,
  type Feedback,
  type TextSegment,
} from '../../schemas/index.js';
import { startBlobSinkService } from '../../sinks/blob/service.js';
import { startFeedbackSinkService } from '../../sinks/feedback/service.js';
import { emotionResult, uniqueContainer } from '../support/blob.js';
import { caughtUp, pipelineStack, TestServices } from '../support/pipeline.js';
import { produceRaw, readTopic, textSegment, waitForRecords } from '../support/topics.js';

const services = new TestServices();
afterEach(() => services.stopAll());

/** The Confluent wire format's magic byte and a schema id no registry has handed out. */
const UNKNOWN_SCHEMA_ID = Buffer.from([0, 0x3b, 0x9a, 0xc9, 0xff, 2, 104, 105]);

describe('malformed records on every topic a service reads', () => {
  it('end in that topic’s dead-letter topic with the reason, and the good records around them still flow', async () => {
    const { stack, prefix, topics } = await pipelineStack('bad-records', {
      BLOB_CONTAINER: uniqueContainer('bad-records'),
      // Sinks send dead letters with the range they commit: cut ranges every 2 s, not every minute.
      SINK_FLUSH_INTERVAL_MS: '2000',
      FEEDBACK_JOIN_WAIT_MS: '1000',
    });
    for (const start of [
      startTranscribeService,
      startCorrectService,
      startTranslateService,
      startClassifyService,
      startBlobSinkService,
      startFeedbackSinkService,
    ]) {
      await services.start(stack, start);
    }
    const encoder = <T>(topic: string, schema: object) =>
      AvroEncoder.forSubject<T>(stack.registry, `${topic}-value`, schema);
    const segmentEncoder = await encoder<TextSegment>(topics.segmentsRaw, avroSchemas.TextSegment);
    const feedbackEncoder = await encoder<Feedback>(topics.feedback, avroSchemas.Feedback);
    const goodSegment = (id: string) => segmentEncoder.encode(textSegment(id, 'I am so happy today'));
    const goodFeedback = (id: string) =>
      feedbackEncoder.encode({
        id,
        resultId: 'no-such-result',
        streamId: null,
        seq: null,
        verdict: 'correct',
        label: null,
        comment: null,
        createdAtMs: Date.now(),
        trace: [],
      });
    const audioEncoder = await encoder<AudioChunk>(topics.audioChunks, avroSchemas.AudioChunk);
    const goodAudio = audioEncoder.encode({
      streamId: 'quiet',
      seq: 0,
      startMs: 0,
      durationMs: 1000,
      sampleRate: 16_000,
      encoding: 'PCM_S16LE',
      pcm: Buffer.alloc(32_000),
      final: true,
      languageHint: 'en',
      source: null,
      trace: [],
    });
    const resultEncoder = await encoder<EmotionResult>(topics.emotions, avroSchemas.EmotionResult);
    const goodResult = resultEncoder.encode(emotionResult('seg-ok', 'stream-ok', 0));

    // Each topic: its reader, a good record, and a record of another topic's schema (wrong schema).
    const cases = [
      { topic: topics.audioChunks, reader: 'transcribe', good: goodAudio, wrong: goodSegment('w') },
      { topic: topics.segmentsRaw, reader: 'correct', good: goodSegment('raw-ok'), wrong: goodFeedback('w') },
      {
        topic: topics.segmentsCorrected,
        reader: 'translate',
        good: goodSegment('corrected-ok'),
        wrong: goodFeedback('w'),
      },
      {
        topic: topics.segmentsTranslated,
        reader: 'classify',
        good: goodSegment('translated-ok'),
        wrong: goodFeedback('w'),
      },
      { topic: topics.emotions, reader: 'blob-sink', good: goodResult, wrong: goodFeedback('w') },
      { topic: topics.feedback, reader: 'feedback-sink', good: goodFeedback('fb-ok'), wrong: goodAudio },
    ];
    for (const { topic, good, wrong } of cases) {
      await produceRaw(stack.kafka, topic, [
        { key: 'not-avro', value: Buffer.from('{"text": "JSON is not Avro"}') },
        { key: 'unknown-schema', value: UNKNOWN_SCHEMA_ID },
        { key: 'truncated', value: good.subarray(0, 9) },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'wrong-schema', value: wrong },
        { key: 'good', value: good },
      ]);
    }

    // All topics at once: each reader's dead letters, then its committed offsets.
    await Promise.all(
      cases.map(async ({ topic, reader }) => {
        const dead = await waitForRecords(stack.kafka, `${topic}.dlq`, 5, 60_000);
        expect(dead.map((record) => record.key).sort(), topic).toEqual(
          ['empty', 'not-avro', 'truncated', 'unknown-schema', 'wrong-schema'].sort(),
        );
        for (const record of dead) {
          expect(record.headers[DLQ_HEADERS.topic], `${topic} ${record.key}`).toBe(topic);
          expect(record.headers[DLQ_HEADERS.message], `${topic} ${record.key}`).toMatch(/\w/);
        }
        // Past every bad record: the reader's group has committed the whole topic. (Only where this
        // test is the one writer: a stage's transaction markers sit past the last record, where no
        // committed offset reaches; the good records below show those readers went on.)
        if (reader === 'transcribe' || reader === 'correct' || reader === 'feedback-sink') {
          await caughtUp(stack, prefix, reader, topic);
        }
      }),
    );
    // The good segments went on through the text stages: the one from segments.raw through all three.
    // (The emotions topic also holds the good result this test wrote.)
    const decoder = new AvroDecoder<EmotionResult>(stack.registry, avroSchemas.EmotionResult);
    const deadline = Date.now() + 60_000;
    let classified: string[] = [];
    while (classified.length < 4 && Date.now() < deadline) {
      const records = await readTopic(stack.kafka, topics.emotions);
      const good = records.filter((record) => record.key === 'good');
      classified = (await Promise.all(good.map((record) => decoder.decode(record.value)))).map(
        (result) => result.segmentId,
      );
      if (classified.length < 4) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(classified.sort()).toEqual(['corrected-ok', 'raw-ok', 'seg-ok', 'translated-ok']);
  });
});
