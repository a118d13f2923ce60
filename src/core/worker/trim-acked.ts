import {groupsOf, trimBehindGroups} from '../trim/line.js'
import {isPermissionDenied} from '../redis/redis-errors.js'
import {sleep} from '../sleep.js'
import {within} from './connections.js'
import {errorMessage} from './outcomes.js'
import type {Session} from './session.js'

/** How often `qctl work --trim-acked` trims the streams it reads. */
export const TRIM_ACKED_MS = 5000

/**
 * `qctl work --trim-acked`: trims each topic stream the worker reads (each partition it reads) behind
 * every group of the stream, with the same atomic script as `qctl trim` (src/core/trim/line.ts): never
 * an entry a group has not been delivered yet or holds pending, and nothing at all if the stream has
 * lost its groups. Advice, not duty: a failure is said once and never stops the worker; a refusal by
 * the ACL (no XTRIM on the topic) is said once and ends the trimming.
 */
export class AckedTrimmer {
  /** Entries trimmed so far (the summary's `trimmed`). */
  removed = 0
  private refused = false
  private warned = false

  constructor(private readonly session: Session) {}

  /** The streams trimmed: the topic's (or its partitions') that this worker reads now. */
  private streams(): string[] {
    return this.session.lanes.filter((lane) => lane.ops.lane === 'topic' && lane.gate.accepting).map((lane) => lane.ops.stream)
  }

  /** One round over the streams; errors are said (once) here. */
  async trimOnce(): Promise<void> {
    if (this.refused) return
    const streams = this.streams()
    try {
      const groups = await groupsOf(this.session.commands, streams)
      const states = await Promise.all(
        streams.map(async (stream, index) => trimBehindGroups(this.session.commands, stream, {mode: 'trim', rule: '+', whenNoGroups: 'keep', dueGroups: groups[index] ?? []})),
      )
      for (const state of states) this.removed += state.removed
      this.warned = false
    } catch (error) {
      if (isPermissionDenied(error)) {
        this.refused = true
        this.session.warn(`--trim-acked: trimming is refused by the ACL, so the worker goes on without it (grant the worker XTRIM on the topic: the selector (+xtrim ~TOPIC), README, qctl trim): ${errorMessage(error)}`)
        return
      }
      if (!this.warned) this.session.warn(`--trim-acked: could not trim (the worker goes on, and tries again in ${TRIM_ACKED_MS / 1000}s): ${errorMessage(error)}`)
      this.warned = true
    }
  }

  /** Every TRIM_ACKED_MS until the worker stops reading. */
  async run(stopping: () => boolean): Promise<void> {
    while (!stopping() && !this.refused) {
      await sleep(TRIM_ACKED_MS, this.session.stopSignal)
      if (stopping()) break
      await within(this.trimOnce(), TRIM_ACKED_MS, 'no answer').catch(() => undefined)
    }
  }
}
