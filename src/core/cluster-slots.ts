import {usageError} from './errors.js'
import {deadLetterKey, topicKeysShareSlot} from './keys.js'
import {keySlot} from './redis/key-slot.js'

/**
 * On a Redis Cluster every atomic step qctl takes (a dead-letter move, a retry record, a replay) is
 * one script on one hash slot. A topic whose derived keys hash elsewhere (`x}y`: braces but no
 * usable hash tag), or a `--dlq` in another slot than the topic, could never take those steps: such
 * work is refused before anything is written (exit 2), naming the slots and the way out.
 */
export function refuseSplitSlots(topic: string, dlqKey: string): void {
  if (!topicKeysShareSlot(topic)) {
    throw usageError(
      `topic "${topic}" cannot be worked on a Redis Cluster: its dead-letter, retry and replay keys (such as "${deadLetterKey(topic)}", slot ${keySlot(deadLetterKey(topic))}) cannot share its hash slot (${keySlot(topic)}), because it has braces but no usable {hash tag}`,
      {suggestion: 'publish to a topic without braces, or with a whole hash tag such as "{orders}.v2"'},
    )
  }
  if (keySlot(dlqKey) !== keySlot(topic)) {
    throw usageError(
      `--dlq "${dlqKey}" is in hash slot ${keySlot(dlqKey)}, topic "${topic}" in slot ${keySlot(topic)}: on a Redis Cluster a dead-letter move is one atomic step on one slot`,
      {suggestion: `name a dead-letter stream with the topic's hash tag, e.g. "${deadLetterKey(topic)}.custom", or leave out --dlq (default "${deadLetterKey(topic)}")`},
    )
  }
}
