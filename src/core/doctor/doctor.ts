import type {Redis} from 'ioredis'

import {isCluster, type RedisClient} from '../redis/client.js'
import {ownerOf, primaries} from '../redis/cluster-nodes.js'
import {serverVersion} from '../stats/server-info.js'
import {checkFacts, sortFindings} from './checks.js'
import {readFacts} from './facts.js'
import {takeInventory} from './inventory.js'
import {readServerSettings, settingsFindings} from './server-settings.js'
import {stuckAfterMs, type CheckId, type DoctorResult, type DoctorThresholds, type Finding, type FixReport, type Severity} from './types.js'

/**
 * `qctl doctor`: look at a Redis (every primary of a cluster) for the problems of queues on Redis
 * Streams, and say what to do about each (src/core/doctor: inventory.ts finds, facts.ts reads,
 * checks.ts and server-settings.ts judge, fix.ts removes leftover consumers).
 */

export interface DoctorOptions {
  /** Topics whose names match this glob (default every key). */
  match: string
  thresholds: DoctorThresholds
  skip: readonly CheckId[]
  failOn: 'warn' | 'error'
  /** The ACL user connected as (named in the note when INFO is refused). */
  user: string
}

const failing = (severity: Severity, failOn: DoctorOptions['failOn']): boolean => severity === 'error' || (failOn === 'warn' && severity === 'warn')

/** The address of a single server's connection (`host:port`). */
const addressOf = (redis: Redis): string => `${String(redis.options.host ?? '')}:${String(redis.options.port ?? '')}`

export async function runDoctor(redis: RedisClient, options: DoctorOptions): Promise<DoctorResult> {
  const started = Date.now()
  const {thresholds} = options
  const serverNode = isCluster(redis) ? '' : addressOf(redis)
  const inventory = await takeInventory(redis, options.match)
  const [facts, settings, server] = await Promise.all([
    readFacts(redis, inventory, thresholds, serverNode),
    options.skip.includes('server-settings') ? [] : readServerSettings(redis, serverNode),
    serverVersion(redis),
  ])
  const nodeOf = (key: string): string | null => (isCluster(redis) ? (ownerOf(redis, key) ?? null) : serverNode)
  const found = [...checkFacts(facts, inventory.badMetadata, thresholds, nodeOf), ...settings.flatMap((node) => settingsFindings(node, options.user))]
  const findings = sortFindings(found.filter((finding) => !options.skip.includes(finding.check)))
  const counts: Record<Severity, number> = {error: 0, warn: 0, info: 0}
  for (const finding of findings) counts[finding.severity]++
  const topics = new Set(facts.streams.filter((stream) => stream.place.role === 'topic').map((stream) => stream.place.topic))
  for (const layout of inventory.partitioned) topics.add(layout.topic)
  return {
    server,
    nodes: isCluster(redis) ? primaries(redis).map((node) => node.address) : [serverNode],
    looked: {
      topics: topics.size,
      partitionedTopics: inventory.partitioned.length,
      streams: facts.streams.length,
      groups: facts.streams.reduce((sum, stream) => sum + stream.groups.length, 0),
      consumers: facts.streams.reduce((sum, stream) => sum + stream.groups.reduce((groups, group) => groups + group.consumerCount, 0), 0),
      retryHashes: inventory.retryHashes.length,
      schedules: inventory.schedules.length,
    },
    thresholds: {...thresholds, stuckAfterMs: stuckAfterMs(thresholds)},
    skipped: [...options.skip],
    findings,
    counts,
    failOn: options.failOn,
    failed: findings.some((finding) => failing(finding.severity, options.failOn)),
    fix: null,
    tookMs: Date.now() - started,
  }
}

/** The result with what --fix did: a leftover it removed no longer fails the run. */
export function withFix(result: DoctorResult, fix: FixReport): DoctorResult {
  const removed = new Set(fix.consumers.filter((outcome) => outcome.outcome === 'removed').map((outcome) => JSON.stringify([outcome.key, outcome.group, outcome.consumer])))
  const fixed = (finding: Finding): boolean => finding.check === 'leftover-consumer' && removed.has(JSON.stringify([finding.key, finding.group, finding.consumer]))
  return {...result, fix, failed: result.findings.some((finding) => !fixed(finding) && failing(finding.severity, result.failOn))}
}
