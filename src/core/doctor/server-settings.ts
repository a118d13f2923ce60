import type {Redis} from 'ioredis'

import {isCluster, type RedisClient} from '../redis/client.js'
import {primaries} from '../redis/cluster-nodes.js'
import {firstLineOf, isErrorReply, isPermissionDenied} from '../redis/reply-errors.js'
import type {Finding} from './types.js'

/**
 * The server settings that weaken qctl's guarantee, read from INFO (persistence, memory and
 * replication sections), on the one server or on each primary of a Redis Cluster. INFO, not CONFIG
 * GET: it says all three, and an ACL user may be given it without the power to read the server's
 * passwords (`CONFIG GET requirepass`). A user who may not run it gets a note that they were not
 * checked, not an error.
 */

export type NodeSettings =
  | {node: string; read: true; aofEnabled: boolean; maxmemoryPolicy: string; maxmemoryBytes: number; role: string; connectedReplicas: number}
  | {node: string; read: false; reason: string; denied: boolean}

/** INFO's `field:value` lines as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}

async function readNode(redis: Redis | RedisClient, node: string): Promise<NodeSettings> {
  try {
    const fields = parseInfo(String(await redis.call('INFO', 'persistence', 'memory', 'replication')))
    return {
      node,
      read: true,
      aofEnabled: fields.get('aof_enabled') === '1',
      maxmemoryPolicy: fields.get('maxmemory_policy') ?? 'noeviction',
      maxmemoryBytes: Number(fields.get('maxmemory') ?? 0),
      role: fields.get('role') ?? 'master',
      connectedReplicas: Number(fields.get('connected_slaves') ?? 0),
    }
  } catch (error) {
    // Refused by the ACL, or renamed away (managed services): not checked, and said so.
    if (!isErrorReply(error)) throw error
    return {node, read: false, reason: firstLineOf(error), denied: isPermissionDenied(error)}
  }
}

/** The settings of the server, or of each primary of a cluster (in parallel). */
export async function readServerSettings(redis: RedisClient, serverNode: string): Promise<NodeSettings[]> {
  if (!isCluster(redis)) return [await readNode(redis, serverNode)]
  return Promise.all(primaries(redis).map(async ({address, redis: node}) => readNode(node, address)))
}

/** `redis-cli` aimed at a node (`host:port`). */
const cliAt = (node: string): string => {
  const colon = node.lastIndexOf(':')
  return `redis-cli -h ${node.slice(0, colon)} -p ${node.slice(colon + 1)}`
}

const serverFinding = (node: string, severity: Finding['severity'], message: string, evidence: Finding['evidence'], fix: string): Finding => ({
  check: 'server-settings',
  severity,
  topic: null,
  partition: null,
  group: null,
  consumer: null,
  key: null,
  node,
  message,
  evidence,
  fix,
})

/** Findings of one node's settings (pure). `user`: the ACL user qctl connected as, for the note of a refusal. */
export function settingsFindings(settings: NodeSettings, user: string): Finding[] {
  const {node} = settings
  if (!settings.read) {
    const why = settings.denied
      ? `the ACL user "${user}" may not run INFO (grant it +info, run qctl doctor as an administrator, or --skip server-settings)`
      : `INFO failed (${settings.reason}): run qctl doctor as an administrator, or --skip server-settings`
    return [serverFinding(node, 'info', `could not check persistence, eviction and replicas: ${why}`, {setting: 'unchecked', reason: settings.reason}, settings.denied ? `${cliAt(node)} ACL SETUSER ${user} +info` : 'qctl doctor --skip server-settings')]
  }
  const findings: Finding[] = []
  const cli = cliAt(node)
  if (!settings.aofEnabled) {
    findings.push(
      serverFinding(node, 'error', 'appendonly no: every write since the last RDB snapshot, acknowledged entries and acknowledgements included, is lost when Redis restarts', {setting: 'appendonly', value: 'no'}, `${cli} CONFIG SET appendonly yes && ${cli} CONFIG REWRITE`),
    )
  }
  const policy = settings.maxmemoryPolicy
  if (settings.maxmemoryBytes > 0 && policy.startsWith('allkeys-')) {
    findings.push(
      serverFinding(node, 'error', `maxmemory-policy ${policy}: when memory runs out Redis evicts any key, streams and their groups included (entries lost without a trace)`, {setting: 'maxmemory-policy', value: policy, maxmemory: settings.maxmemoryBytes}, `${cli} CONFIG SET maxmemory-policy noeviction && ${cli} CONFIG REWRITE`),
    )
  } else if (settings.maxmemoryBytes > 0 && policy.startsWith('volatile-')) {
    findings.push(
      serverFinding(node, 'warn', `maxmemory-policy ${policy}: when memory runs out Redis evicts keys with an expiry, among them qctl's partition leases, takeover marks and group members, before they end`, {setting: 'maxmemory-policy', value: policy, maxmemory: settings.maxmemoryBytes}, `${cli} CONFIG SET maxmemory-policy noeviction && ${cli} CONFIG REWRITE`),
    )
  }
  if (settings.role === 'master' && settings.connectedReplicas === 0) {
    findings.push(serverFinding(node, 'warn', 'no replica: if this server is lost, so is every stream on it', {setting: 'replicas', value: 0}, `redis-cli -h REPLICA_HOST -p REPLICA_PORT REPLICAOF ${node.slice(0, node.lastIndexOf(':'))} ${node.slice(node.lastIndexOf(':') + 1)}`))
  }
  return findings
}
