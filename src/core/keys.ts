/**
 * Every Redis key name qctl uses is built here, nowhere else.
 *
 * A topic is the stream key itself, used exactly as given, so qctl works with streams that
 * other programs write. Keys derived from a topic (its dead-letter stream) share the topic's
 * Redis Cluster hash slot, so atomic scripts may touch both.
 */

import {keySlot} from './redis/key-slot.js'

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
 * The metadata hash of a partitioned topic (`qctl topic create`): its partition count, the stream
 * of each partition, creation time and version (src/core/partitions/metadata.ts). A topic without
 * one is a plain stream: one partition, the stream itself.
 *
 * `qctl:topic:{T}`: the topic's name is its hash tag, so the key lives in the slot of the stream T
 * (a plain topic). Every command looks it up before using T: anywhere else, a Redis Cluster node that
 * is down would stop commands on topics whose own node is up.
 */
export const TOPIC_METADATA_PREFIX = 'qctl:topic:'
export const topicMetadataKey = (topic: string): string => `${TOPIC_METADATA_PREFIX}{${topic}}`

/** The SCAN pattern of the metadata keys of topics whose names match `match` (a glob). */
export const metadataKeyPattern = (match: string): string => `${TOPIC_METADATA_PREFIX}{${match}}`

/** The topic a metadata key is of; undefined for a key that is not one (`qctl:topic:{T}`). */
export function topicOfMetadataKey(key: string): string | undefined {
  if (!key.startsWith(`${TOPIC_METADATA_PREFIX}{`) || !key.endsWith('}')) return undefined
  const topic = key.slice(TOPIC_METADATA_PREFIX.length + 1, -1)
  return topic === '' || topic.includes('{') || topic.includes('}') ? undefined : topic
}

/**
 * The stream of one partition of a partitioned topic: `{<topic>:p<index>:<salt>}`, the whole name
 * its own hash tag, so each partition has a slot of its own (the salt is chosen so that the slots
 * spread over the cluster: src/core/partitions/placement.ts) and the keys derived from it (its
 * dead-letter stream `{…}:dlq`, retry and replay keys) share that slot. The name is stored in the
 * topic's metadata, never parsed back.
 */
export const partitionStreamKey = (topic: string, index: number, salt: string): string => `{${topic}:p${index}:${salt}}`

/**
 * A key that belongs to a topic: `<topic>:<suffix>` when the topic already has a hash tag,
 * otherwise `{<topic>}:<suffix>`, whose hash tag is the whole topic name, so it lands in the
 * slot of the topic key. A topic with braces but no usable tag cannot be tagged that way; it
 * gets `<topic>:<suffix>` (same node only on a single-node Redis).
 */
function topicKey(topic: string, suffix: string): string {
  if (hashTag(topic) !== undefined || topic.includes('{') || topic.includes('}')) return `${topic}:${suffix}`
  return `{${topic}}:${suffix}`
}

/** The dead-letter stream of a topic. */
export const deadLetterKey = (topic: string): string => topicKey(topic, 'dlq')

/**
 * Whether every key qctl derives from the topic (dead-letter stream, retry and replay keys) lands
 * in the topic's hash slot, so its atomic steps can run on a Redis Cluster. False only for a topic
 * with braces but no usable hash tag (`x}y`, `a{}b`): its derived keys hash differently.
 */
export const topicKeysShareSlot = (topic: string): boolean => keySlot(deadLetterKey(topic)) === keySlot(topic)

/** Whether `key` is the dead-letter stream qctl derives for some topic (`{T}:dlq`, or `T:dlq` for a tagged T). */
export function isDeadLetterKey(key: string): boolean {
  if (!key.endsWith(':dlq')) return false
  const base = key.slice(0, -':dlq'.length)
  const topic = base.startsWith('{') && base.endsWith('}') ? base.slice(1, -1) : base
  return topic !== '' && deadLetterKey(topic) === key
}

/**
 * The topics whose dead-letter stream `key` could be: `{T}:dlq` is that of `T`, and also that of a
 * topic `{T}` (tagged topics get `<topic>:dlq`). Empty when it is not a dead-letter key.
 */
export const topicsOfDeadLetterKey = (key: string): string[] => ownersOfStreamKey(key, 'dlq')

/**
 * The streams whose per-stream key (STREAM_KEY_SUFFIXES: `{S}:dlq`, `{S}:scheduled`, …) `key` could
 * be: `{S}:<suffix>` is that of `S`, and also that of a stream `{S}` (tagged names get `<S>:<suffix>`).
 * Empty when it is no such key.
 */
export function ownersOfStreamKey(key: string, suffix: StreamKeySuffix): string[] {
  if (!key.endsWith(`:${suffix}`)) return []
  const base = key.slice(0, -`:${suffix}`.length)
  const candidates = base.startsWith('{') && base.endsWith('}') ? [base.slice(1, -1), base] : [base]
  return candidates.filter((stream) => stream !== '' && topicKey(stream, suffix) === key)
}

/**
 * The retry hash of a consumer group: entry ID -> what the worker knows of the entry's attempts
 * (first failure time, starts proven, failures recorded; see src/core/worker/attempts.ts), for entries
 * that failed or were taken over from a worker that died.
 */
export const retryKey = (topic: string, group: string): string => topicKey(topic, `retry:${group}`)

/**
 * The due set of a consumer group: a sorted set of entry IDs waiting out a backoff, scored by the
 * time (Redis's clock, ms) they may be delivered again. Its own namespace (`due:`, not `retry:…`),
 * so no group name can make it collide with another group's retry hash.
 */
export const retryDueKey = (topic: string, group: string): string => topicKey(topic, `due:${group}`)

/**
 * The takeover marks of a consumer group: entry ID -> the consumer a live worker took the entry over
 * from (a dead or frozen worker). The worker it was taken from reads its own marks to count the second
 * handlings it caused; the key expires (refreshed on every takeover), so marks of workers that never
 * came back do not pile up.
 */
export const takeoverKey = (topic: string, group: string): string => topicKey(topic, `taken:${group}`)

/**
 * The keys a group holds (`qctl work --ordered --on-dead-letter hold-key`): key -> the dead-letter
 * entry ID of its message that was dead-lettered first. While a key is held, its later messages are
 * dead-lettered too, in order, without running the handler; a message of the key replayed to the
 * group (`qctl dlq replay`) that succeeds releases it. Per stream (a partition has its own).
 */
export const heldKeysKey = (topic: string, group: string): string => topicKey(topic, `held:${group}`)

/**
 * A partition's lease for a group (`qctl work --ordered` on a partitioned topic): "<token>:<owner>"
 * with an expiry; and the counter its fencing tokens come from (never expires, only grows). Both in
 * the partition stream's slot, so the fenced acknowledgement script finds them beside the stream.
 */
export const leaseKey = (stream: string, group: string): string => topicKey(stream, `lease:${group}`)
export const leaseTokenKey = (stream: string, group: string): string => topicKey(stream, `lease-token:${group}`)

/**
 * The keys with the most messages waiting behind an earlier one of theirs, as the workers of an
 * ordered group (`qctl work --ordered`) report them for `qctl top`'s detail view: a hash per
 * stream (each partition's, or the plain topic's) and group, field = consumer, value = JSON
 * `{"at": <Redis ms>, "keys": [{"key": K, "waiting": N}, ...]}` (its busiest keys, most first), written
 * every few seconds by the worker that reads the stream (key-report.ts), expiring when nobody writes.
 */
export const waitingKeysKey = (stream: string, group: string): string => topicKey(stream, `waiting:${group}`)

/**
 * The idempotency keys published (or scheduled) to a stream lately (`qctl publish --idempotency-key-field`):
 * a sorted set, each key scored by when it stops counting (Redis ms), in the stream's slot so the batch
 * script checks and adds in one step (src/lua/xadd-dedupe-2.lua; schedule-add-dedupe-2.lua with the
 * stream's schedule).
 */
export const dedupeKey = (stream: string): string => topicKey(stream, 'dedupe')

/**
 * A stream's scheduled messages (`qctl publish --delay / --at`): a sorted set in the stream's slot,
 * each member a message (src/core/schedule/schedule-entry.ts) scored by when it is due (Redis ms),
 * appended to the stream when due by src/lua/schedule-move-2.lua.
 */
export const scheduleKey = (stream: string): string => topicKey(stream, 'scheduled')

/** The suffixes of the keys qctl keeps per stream (not per group): dead letters, publish-once keys, scheduled messages. */
export const STREAM_KEY_SUFFIXES = ['dlq', 'dedupe', 'scheduled'] as const
export type StreamKeySuffix = (typeof STREAM_KEY_SUFFIXES)[number]

/** The live workers of an ordered group of a partitioned topic (a sorted set scored by expiry), which share its partitions. */
export const membersKey = (topic: string, group: string): string => topicKey(topic, `members:${group}`)

/**
 * The replay stream of a consumer group: `qctl dlq replay` moves the entries the group dead-lettered
 * here, and only that group's workers read it (beside the topic), so the other groups of the topic
 * never see a replayed message again. Same hash slot as the topic and its dead-letter stream.
 */
export const replayKey = (topic: string, group: string): string => topicKey(topic, `replay:${group}`)

/**
 * The retry hash, due set and takeover marks of a group's replay stream: the same roles as the
 * topic's (retryKey, retryDueKey, takeoverKey), in namespaces of their own, since entry IDs of the
 * replay stream and of the topic are unrelated and may be equal.
 */
export const replayRetryKey = (topic: string, group: string): string => topicKey(topic, `replay-retry:${group}`)
export const replayDueKey = (topic: string, group: string): string => topicKey(topic, `replay-due:${group}`)
export const replayTakeoverKey = (topic: string, group: string): string => topicKey(topic, `replay-taken:${group}`)

/** Whether `key` is the replay stream qctl derives for some topic and group (`{T}:replay:G`, or `T:replay:G` for a tagged T). */
export function isReplayKey(key: string): boolean {
  const untagged = /^\{([^{}]+)\}:replay:(.+)$/s.exec(key)
  if (untagged !== null && replayKey(untagged[1] as string, untagged[2] as string) === key) return true
  const tagged = /^(.*\{[^{}]+\}.*?):replay:(.+)$/s.exec(key)
  return tagged !== null && replayKey(tagged[1] as string, tagged[2] as string) === key
}

/**
 * Every key qctl keeps for one consumer group beside one stream (a plain topic, or one partition's
 * stream), all in that stream's slot: retry hash, due set, takeover marks, the replay stream and its
 * own retry state, held keys, lease and fencing-token counter, and the waiting-key reports. The group's
 * members set is the topic's (membersKey), not a stream's. `qctl group delete` removes them all.
 */
export const groupStateKeys = (stream: string, group: string): string[] =>
  [retryKey, retryDueKey, takeoverKey, replayKey, replayRetryKey, replayDueKey, replayTakeoverKey, heldKeysKey, leaseKey, leaseTokenKey, waitingKeysKey].map((key) => key(stream, group))

/**
 * The kinds of key qctl derives per group (`<prefix><kind>:<group>`, the prefix `{T}:` or `T:`): what
 * groupStateKeys and membersKey build, for finding them by pattern (`qctl topic delete`).
 */
export const GROUP_KEY_KINDS = ['retry', 'due', 'taken', 'replay', 'replay-retry', 'replay-due', 'replay-taken', 'held', 'lease', 'lease-token', 'waiting', 'members'] as const

/**
 * Every reading of `key` as a key a builder of keys.ts makes from a stream and a group
 * (`build(stream, group) === key`, split at each `marker`): `{T}:retry:G` is T's, and also that of a
 * topic `{T}` (tagged topics get `<topic>:retry:G`). Empty when it is not such a key.
 */
function streamGroupOwners(key: string, marker: string, build: (stream: string, group: string) => string): Array<{stream: string; group: string}> {
  const owners: Array<{stream: string; group: string}> = []
  for (let at = key.indexOf(marker); at !== -1; at = key.indexOf(marker, at + 1)) {
    const base = key.slice(0, at)
    const group = key.slice(at + marker.length)
    if (base === '' || group === '') continue
    const candidates = base.startsWith('{') && base.endsWith('}') ? [base.slice(1, -1), base] : [base]
    for (const stream of candidates) if (stream !== '' && build(stream, group) === key) owners.push({stream, group})
  }
  return owners
}

/** The streams and groups whose retry hash (`retryKey`) `key` could be; empty when it is none. */
export const retryKeyOwners = (key: string): Array<{stream: string; group: string}> => streamGroupOwners(key, ':retry:', retryKey)

/** The streams and groups whose replay stream's retry hash (`replayRetryKey`) `key` could be. */
export const replayRetryKeyOwners = (key: string): Array<{stream: string; group: string}> => streamGroupOwners(key, ':replay-retry:', replayRetryKey)

/** The topics and groups whose replay stream (`replayKey`) `key` could be; empty when it is none. */
export const replayKeyOwners = (key: string): Array<{stream: string; group: string}> => streamGroupOwners(key, ':replay:', replayKey)
