import type {AttemptRecord} from './attempts.js'
import type {DeliveredEntry, HeldEntryFate} from './group-ops.js'
import type {Lane} from './session.js'

/** An entry the worker holds, from delivery to outcome. */
export interface Tracked {
  readonly id: string
  /** Where the worker's InFlight holds it. */
  slot: number
  /** Taken back with a record after an ordered retry failed in place (its next start is marked): replaced then. */
  entry: DeliveredEntry
  /** The message key (`--ordered` keeps one entry per key at a time); undefined without one, or when not ordered. */
  readonly key: string | undefined
  /** The stream it came from (the topic, or the group's replay stream): where its outcome is written. */
  readonly lane: Lane
  /** This start's attempt number (see attempts.ts); an ordered retry in place counts it up. */
  attempt: number
  record: AttemptRecord | undefined
  /** Runs alone in the worker (a marked start of it never reported back). */
  readonly suspect: boolean
  /** Its starts are used up: dead-letter without calling the handler. */
  readonly exceeded: boolean
  started: boolean
  /**
   * What the heartbeat found, once it no longer was this consumer's. `acknowledged`: no longer
   * pending, and either this worker had failed to renew it for a visibility timeout, so another
   * worker took it over and finished it (not a deleted consumer, which only an operator does), or
   * this worker took it over and the consumer it was taken from finished it (heartbeat-4.lua, 4).
   */
  fate: HeldEntryFate | undefined
  /** When the worker last knew the entry was its own (delivery, or a heartbeat that renewed it), performance.now(). */
  renewedAt: number
  controller: AbortController | undefined
}

/** Taken over from another consumer (reclaim-4.lua), which may have handled it too: see ack-taken-3.lua. */
export const takenOverHere = (tracked: Tracked): boolean => tracked.entry.takenBack?.takenOver === true

/** Whether the entry's acknowledgement must also remove its attempt record. */
export const hasRecord = (tracked: Tracked): boolean => tracked.entry.takenBack !== undefined

/** No acknowledgement to send: nothing is pending for it any more (its consumer was deleted, or it was deleted). */
export const nothingToAck = (tracked: Tracked): boolean => tracked.entry.orphan || tracked.fate === 'orphaned' || tracked.fate === 'deleted'

/**
 * Whether starting it writes a start mark first (see attempts.ts): an entry taken back (not a first
 * delivery) whose handler will be called, unless it is a suspect (marked alone, with a check).
 */
export const needsStartMark = (tracked: Tracked): boolean => tracked.entry.takenBack !== undefined && !tracked.suspect && !tracked.exceeded && !nothingToAck(tracked)
