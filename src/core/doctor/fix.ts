import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isNoGroup, isNoSuchKey} from '../redis/reply-errors.js'
import {callScript, DELETE_CONSUMER_IF_IDLE} from '../scripts.js'
import {infoObject} from '../stats/xinfo.js'
import type {Finding, FixOutcome, FixReport} from './types.js'

/**
 * `qctl doctor --fix`: remove the leftover consumers it found, each with
 * src/lua/delete-consumer-if-idle-1.lua (as the worker prunes them), which checks and deletes in one
 * step: XGROUP DELCONSUMER would drop a consumer's pending entries, so a consumer that got an entry
 * (or was active) between the look and the fix is kept, and said so.
 */

/** The leftover-consumer findings as the consumers --fix would remove. */
export function leftoversOf(findings: readonly Finding[]): FixOutcome[] {
  return findings
    .filter((finding) => finding.check === 'leftover-consumer')
    .map((finding) => ({
      topic: finding.topic ?? '',
      partition: finding.partition,
      key: finding.key ?? '',
      group: finding.group ?? '',
      consumer: finding.consumer ?? '',
      outcome: 'would-remove',
      reason: null,
      pending: null,
    }))
}

export const unchangedFix = (leftovers: readonly FixOutcome[], options: {dryRun: boolean; cancelled: boolean}): FixReport => ({
  dryRun: options.dryRun,
  cancelled: options.cancelled,
  removed: 0,
  kept: 0,
  consumers: leftovers.map((leftover) => ({...leftover, outcome: options.cancelled ? 'kept' : 'would-remove'})),
})

/** Remove the leftovers (idle at least `leftoverAfterMs`, holding nothing, checked inside Redis); say why any was kept. */
export async function removeLeftovers(redis: RedisClient, leftovers: readonly FixOutcome[], leftoverAfterMs: number): Promise<FixReport> {
  // One script call per consumer, all sent at once (one key each: a cluster routes each to its node).
  const replies = await Promise.all(leftovers.map(async (leftover) => callScript(redis, DELETE_CONSUMER_IF_IDLE, [leftover.key, leftover.group, leftover.consumer, Math.round(leftoverAfterMs)])))
  const outcomes: FixOutcome[] = leftovers.map((leftover, index) => ({...leftover, outcome: Number(replies[index]) === 1 ? 'removed' : 'kept'}))
  const kept = outcomes.filter((outcome) => outcome.outcome === 'kept')
  // Why each kept one was: its group's consumers as they are now.
  const now = await pipelineByKey(redis, kept, (outcome) => outcome.key, (pipeline, outcome) => pipeline.call('XINFO', 'CONSUMERS', outcome.key, outcome.group))
  kept.forEach((outcome, index) => {
    const [error, rows] = now[index] ?? [new Error('no reply'), null]
    if (error !== null && !isNoSuchKey(error) && !isNoGroup(error)) throw error
    const consumer = ((rows as unknown[] | null) ?? []).map(infoObject).find((row) => String(row.name) === outcome.consumer)
    if (consumer === undefined) outcome.reason = 'gone'
    else if (Number(consumer.pending) > 0) {
      outcome.reason = 'holds-pending'
      outcome.pending = Number(consumer.pending)
    } else outcome.reason = 'active'
  })
  return {dryRun: false, cancelled: false, removed: outcomes.length - kept.length, kept: kept.length, consumers: outcomes}
}
