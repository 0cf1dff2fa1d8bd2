import type { Kafka, Producer, ProducerBatch, ProducerRecord, RecordMetadata, Transaction } from 'kafkajs';
import type { KafkaConfig } from '../config/index.js';
import { compressionType, registerCompressionCodecs } from './compression.js';
import { splitBySize } from './request-size.js';

type Sendable = Pick<Producer, 'send' | 'sendBatch'>;

interface SendPolicy {
  compression: ReturnType<typeof compressionType>;
  maxRequestBytes: number;
}

/**
 * The same object, with every send and sendBatch compressed as configured (unless the call names
 * a compression) and cut into requests of at most maxRequestBytes of records (request-size.ts).
 * The parts go one after another, so each partition keeps its order; inside a transaction they
 * commit or abort together.
 */
function withSendPolicy<T extends Sendable>(target: T, policy: SendPolicy): T {
  const sendBatch = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    const { topicMessages = [], ...rest } = batch;
    const requests = splitBySize(topicMessages, policy.maxRequestBytes);
    if (requests.length <= 1) return target.sendBatch({ compression: policy.compression, ...batch });
    const written: RecordMetadata[] = [];
    for (const part of requests) {
      written.push(
        ...(await target.sendBatch({ compression: policy.compression, ...rest, topicMessages: part })),
      );
    }
    return written;
  };
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property === 'sendBatch') return sendBatch;
      if (property === 'send')
        return ({ topic, messages, ...rest }: ProducerRecord) =>
          sendBatch({ ...rest, topicMessages: [{ topic, messages }] });
      const value = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/**
 * A client whose producers, and their transactions, all send by one policy: compression
 * (KAFKA_COMPRESSION) and a bound on the bytes of one request (KAFKA_MAX_REQUEST_BYTES). One place
 * for both instead of each of the places that send; kafkajs takes compression per call only and
 * has no request size bound at all.
 */
export function withProducerPolicy(
  kafka: Kafka,
  config: Pick<KafkaConfig, 'compression' | 'maxRequestBytes'>,
): Kafka {
  registerCompressionCodecs();
  const policy: SendPolicy = {
    compression: compressionType(config.compression),
    maxRequestBytes: config.maxRequestBytes,
  };
  const producer = kafka.producer.bind(kafka);
  return new Proxy(kafka, {
    get(object, property, receiver) {
      if (property !== 'producer') return Reflect.get(object, property, receiver);
      return (...args: Parameters<Kafka['producer']>) => {
        const created = producer(...args);
        const transaction = created.transaction.bind(created);
        return withSendPolicy(
          new Proxy(created, {
            get(target, name, self) {
              if (name === 'transaction')
                return async () => withSendPolicy<Transaction>(await transaction(), policy);
              return Reflect.get(target, name, self);
            },
          }),
          policy,
        );
      };
    },
  });
}
