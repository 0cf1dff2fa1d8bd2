// emotion-stream patch: acknowledged per partition (deploy/patches/README.md)
//
// kafkajs 2.2.4's src/producer/sendMessages.js with one fix. kafkajs is MIT-licensed
// (Copyright (c) 2018 Túlio Ornelas, Kafkajs contributors); this file keeps its license.
//
// The original remembered which *brokers* had answered a send. When one broker answered and
// another failed with NOT_LEADER (a leader moving during a rolling restart), the retry looked up
// the new leaders, found the moved partition now led by a broker that had already answered, sent
// it nothing, and resolved the send as a success: the partition's records were never written.
// Measured on a 3-broker cluster (test/cluster/cluster-faults.test.ts): one producer batch lost
// per rolling restart (42 and 50 rows in two runs). The same flaw is described in
// tulios/kafkajs#1798, still unmerged. This version remembers which *partitions* are
// acknowledged, sends every other partition to its current leader on a retry, keeps each
// message in the partition it was first assigned to, lets every request of an attempt settle
// before retrying (no second copy sent while the first is in flight), and treats a partition
// without a known leader as retriable instead of dropping it.
const { KafkaJSMetadataNotLoaded } = require('../errors')
const { staleMetadata } = require('../protocol/error')
const groupMessagesPerPartition = require('./groupMessagesPerPartition')
const createTopicData = require('./createTopicData')
const responseSerializer = require('./responseSerializer')

const { keys } = Object

/**
 * @param {Object} options
 * @param {import("../../types").Logger} options.logger
 * @param {import("../../types").Cluster} options.cluster
 * @param {ReturnType<import("../../types").ICustomPartitioner>} options.partitioner
 * @param {import("./eosManager").EosManager} options.eosManager
 * @param {import("../retry").Retrier} options.retrier
 */
module.exports = ({ logger, cluster, partitioner, eosManager, retrier }) => {
  return async ({ acks, timeout, compression, topicMessages }) => {
    /** topic → partition → messages, fixed by the first attempt that had metadata. */
    const messagesPerTopic = new Map()
    /** topic → partition → the broker's answer (or null for acks=0), once acknowledged. */
    const acknowledged = new Map()
    for (const { topic } of topicMessages) acknowledged.set(topic, new Map())

    const createProducerRequests = async () => {
      await cluster.refreshMetadataIfNecessary()

      /** nodeId → [{ topic, partitions, messagesPerPartition }] still to be sent. */
      const pendingPerLeader = new Map()
      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic)

        if (partitionMetadata.length === 0) {
          logger.debug('Producing to topic without metadata', {
            topic,
            targetTopics: Array.from(cluster.targetTopics),
          })

          throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata')
        }

        if (!messagesPerTopic.has(topic)) {
          messagesPerTopic.set(
            topic,
            groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner })
          )
        }
        const messagesPerPartition = messagesPerTopic.get(topic)
        const done = acknowledged.get(topic)
        const pending = keys(messagesPerPartition).filter(partition => !done.has(Number(partition)))
        const partitionsPerLeader = cluster.findLeaderForPartitions(topic, pending)
        const led = keys(partitionsPerLeader).reduce((n, id) => n + partitionsPerLeader[id].length, 0)
        if (led < pending.length) {
          throw new KafkaJSMetadataNotLoaded('Producing to a partition without a known leader')
        }

        for (const nodeId of keys(partitionsPerLeader)) {
          const list = pendingPerLeader.get(nodeId) || []
          list.push({ topic, partitions: partitionsPerLeader[nodeId], messagesPerPartition })
          pendingPerLeader.set(nodeId, list)
        }
      }

      const requests = []
      for (const [nodeId, topicDataForBroker] of pendingPerLeader) {
        const broker = await cluster.findBroker({ nodeId })
        requests.push({ broker, topicData: createTopicData(topicDataForBroker) })
      }

      return requests.map(async ({ broker, topicData }) => {
        await eosManager.acquireBrokerLock(broker)
        try {
          if (eosManager.isTransactional()) {
            await eosManager.addPartitionsToTransaction(topicData)
          }

          topicData.forEach(({ topic, partitions }) => {
            partitions.forEach(entry => {
              entry['firstSequence'] = eosManager.getSequence(topic, entry.partition)
              eosManager.updateSequence(topic, entry.partition, entry.messages.length)
            })
          })

          let response
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional()
                ? eosManager.getTransactionalId()
                : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            })
          } catch (e) {
            topicData.forEach(({ topic, partitions }) => {
              partitions.forEach(entry => {
                eosManager.updateSequence(topic, entry.partition, -entry.messages.length)
              })
            })
            throw e
          }

          const expectResponse = acks !== 0
          if (expectResponse) {
            for (const answer of responseSerializer(response)) {
              acknowledged.get(answer.topicName).set(Number(answer.partition), answer)
            }
          } else {
            topicData.forEach(({ topic, partitions }) => {
              partitions.forEach(entry => {
                acknowledged.get(topic).set(entry.partition, null)
              })
            })
          }
        } finally {
          await eosManager.releaseBrokerLock(broker)
        }
      })
    }

    return retrier(async (bail, retryCount, retryTime) => {
      const topics = topicMessages.map(({ topic }) => topic)
      await cluster.addMultipleTargetTopics(topics)

      try {
        const requests = await createProducerRequests()
        // Every request settles before a retry builds the next ones: a request still in flight
        // would otherwise be sent a second time with a new sequence number.
        const settled = await Promise.allSettled(requests)
        const failed = settled.find(outcome => outcome.status === 'rejected')
        if (failed) throw failed.reason
        return Array.from(acknowledged.values())
          .flatMap(answers => Array.from(answers.values()))
          .filter(answer => answer !== null)
      } catch (e) {
        if (e.name === 'KafkaJSConnectionClosedError') {
          cluster.removeBroker({ host: e.host, port: e.port })
        }

        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, {
            retryCount,
            retryTime,
          })
          await cluster.connect()
          await cluster.refreshMetadata()
          throw e
        }

        // This is necessary in case the metadata is stale and the number of partitions
        // for this topic has increased in the meantime
        if (
          staleMetadata(e) ||
          e.name === 'KafkaJSMetadataNotLoaded' ||
          e.name === 'KafkaJSConnectionError' ||
          e.name === 'KafkaJSConnectionClosedError' ||
          (e.name === 'KafkaJSProtocolError' && e.retriable)
        ) {
          logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })
          await cluster.refreshMetadata()
          throw e
        }

        logger.error(`${e.message}`, { retryCount, retryTime })
        if (e.retriable) throw e
        bail(e)
      }
    })
  }
}
