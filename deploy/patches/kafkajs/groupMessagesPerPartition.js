// emotion-stream patch: linear grouping (deploy/patches/README.md)
//
// kafkajs 2.2.4's src/producer/groupMessagesPerPartition.js, rewritten without its quadratic copy.
// kafkajs is MIT-licensed (Copyright (c) 2018 Túlio Ornelas, Kafkajs contributors); this file
// keeps its license.
//
// Upstream rebuilt each partition's array for every message (`[...current, message]`): a batch
// of n messages to one partition copied n²/2 references, the widest runtime frame of the
// pipeline's profile (bench/RESULTS.md, issue 22). Same result: each partition's messages in the
// order given, keyed by partition.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }

  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current) current.push(message)
    else result[partition] = [message]
  }
  return result
}
