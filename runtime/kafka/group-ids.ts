/**
 * The one place a consumer group id is made (issue 20: they were built by hand in seven places,
 * some without the topic prefix): `<TOPIC_PREFIX>emotion-stream.<name>`, where the name is the
 * service's (`correct`, `blob-sink`, `classify-blue`) or a run's (`replay-classify-<hash>`).
 */
const NAMESPACE = 'emotion-stream';

export function groupIdOf(prefix: string, name: string): string {
  return `${prefix}${NAMESPACE}.${name}`;
}

/** The name a group id was made from with this prefix, or undefined for a group not made here. */
export function groupNameOf(prefix: string, groupId: string): string | undefined {
  const start = groupIdOf(prefix, '');
  return groupId.startsWith(start) && groupId.length > start.length ? groupId.slice(start.length) : undefined;
}
