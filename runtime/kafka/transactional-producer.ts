import { Producer } from '@platformatic/kafka';
import type { KafkaClients } from './client.js';
import { javaPartitioner } from './java-partitioner.js';
import { platformaticOptions } from './platformatic-options.js';

/**
 * A transactional producer on @platformatic/kafka: idempotent, compressing as KAFKA_COMPRESSION
 * says, keys partitioned as the Java client does. Not initialised yet (initTransactions).
 */
export function transactionalProducer(
  clients: KafkaClients,
  transactionalId: string,
  transactionTimeoutMs: number,
): Producer {
  return new Producer({
    ...platformaticOptions(clients.config, `${clients.clientId}-${transactionalId}`),
    transactionalId,
    idempotent: true,
    compression: clients.config.compression,
    // Java's partitioner (murmur2, made positive): a key lands where any Kafka client puts it.
    partitioner: javaPartitioner,
    // The produce timeout, and also the transaction timeout the producer registers.
    timeout: transactionTimeoutMs,
    // A new producer, not an epoch bump of a known one: the client otherwise sends InitProducerId
    // with producer id 0 and epoch 0, which the broker answers PRODUCER_FENCED as soon as the
    // transactional id has had any producer (KIP-360) — a restarted member could never start.
    producerId: -1n,
    producerEpoch: -1,
  });
}

/**
 * Initialises the transactional id: fences a zombie holding it and completes (aborts) the
 * transaction it left open. Beginning a transaction does it; cancelling one that wrote nothing ends
 * it without a request (EndTxn on an empty transaction is INVALID_TXN_STATE).
 */
export async function initTransactions(producer: Producer): Promise<void> {
  const transaction = await producer.beginTransaction();
  await transaction.cancel();
}
