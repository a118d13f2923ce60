/**
 * Every Redis key name qctl uses is built here, nowhere else.
 *
 * A topic is the stream key itself, used exactly as given, so qctl works with streams that
 * other programs write. Keys derived from a topic (its dead-letter stream) share the topic's
 * Redis Cluster hash slot, so atomic scripts may touch both.
 */

/** The hash tag Redis Cluster would hash for `key`: the text inside the first `{…}`, if non-empty. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{')
  if (open === -1) return undefined
  const close = key.indexOf('}', open + 1)
  if (close === -1 || close === open + 1) return undefined
  return key.slice(open + 1, close)
}

/** The stream key of a topic. */
export const topicStreamKey = (topic: string): string => topic

/**
 * The dead-letter stream of a topic: `<topic>:dlq` when the topic already has a hash tag,
 * otherwise `{<topic>}:dlq`, whose hash tag is the whole topic name, so it lands in the slot
 * of the topic key. A topic with braces but no usable tag cannot be tagged that way; it gets
 * `<topic>:dlq` (same node only on a single-node Redis).
 */
export function deadLetterKey(topic: string): string {
  if (hashTag(topic) !== undefined || topic.includes('{') || topic.includes('}')) return `${topic}:dlq`
  return `{${topic}}:dlq`
}
