import type { PartitionOffset } from './records.js';

/** A topic to create. */
export interface NewTopic {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: Array<{ name: string; value: string }>;
}

/** A topic or broker whose configuration is read or changed (resource type as the protocol numbers it: topic 2, broker 4). */
export interface ConfigResource {
  type: number;
  name: string;
  configNames?: string[];
  configEntries?: Array<{ name: string; value: string }>;
}

export interface TopicPartitionOffsets extends PartitionOffset {
  high: string;
  low: string;
}

/**
 * The administrative calls the product makes, in our own types (the client's admin satisfies it).
 * Offsets are decimal strings; a group's offset of "-1" means it has committed none.
 */
export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(options: { topics: NewTopic[]; waitForLeaders?: boolean; timeout?: number }): Promise<boolean>;
  createPartitions(options: { topicPartitions: Array<{ topic: string; count: number }> }): Promise<boolean>;
  fetchTopicMetadata(options?: { topics: string[] }): Promise<{
    topics: Array<{
      name: string;
      partitions: Array<{ partitionId: number; leader: number; replicas: number[]; isr: number[] }>;
    }>;
  }>;
  /** Each partition's earliest (`low`) and next (`high`, also `offset`) offset. */
  fetchTopicOffsets(topic: string, options?: { logEnd?: boolean }): Promise<TopicPartitionOffsets[]>;
  /** Each partition's first offset written at or after the timestamp (its end when there is none). */
  fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<PartitionOffset[]>;
  fetchOffsets(options: {
    groupId: string;
    topics?: string[];
  }): Promise<Array<{ topic: string; partitions: PartitionOffset[] }>>;
  setOffsets(options: { groupId: string; topic: string; partitions: PartitionOffset[] }): Promise<void>;
  listGroups(): Promise<{ groups: Array<{ groupId: string; protocolType: string }> }>;
  describeGroups(groupIds: string[]): Promise<{
    groups: Array<{ groupId: string; state: string; members: Array<{ memberId: string; clientId: string }> }>;
  }>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
  describeCluster(): Promise<{
    brokers: Array<{ nodeId: number; host: string; port: number }>;
    clusterId: string;
  }>;
  describeConfigs(options: { resources: ConfigResource[]; includeSynonyms: boolean }): Promise<{
    resources: Array<{
      resourceName: string;
      configEntries: Array<{
        configName: string;
        configValue: string;
        configSource: number;
        readOnly: boolean;
      }>;
    }>;
  }>;
  alterConfigs(options: { resources: ConfigResource[]; validateOnly: boolean }): Promise<unknown>;
}

/** Resource types of describeConfigs/alterConfigs, as the protocol numbers them. */
export const CONFIG_RESOURCE = { topic: 2, broker: 4 } as const;
