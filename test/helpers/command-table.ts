import type {Cluster, Redis} from 'ioredis'

import {deadLetterKey} from '../../src/core/keys.js'
import {RECORDER} from './recorder.js'

/**
 * Every qctl command that talks to Redis, as one table, so the security tests (credentials,
 * ACL roles, TLS) cover each command the same way instead of repeating code per command.
 */

/** What `seedTopic` left in Redis for a command to act on. */
export interface Seeded {
  topic: string
  /** Two dead-letter entries: one to show and replay, one to purge. */
  deadLetterIds: [string, string]
}

export interface CommandCase {
  /** As a user types it: `dlq replay`. */
  name: string
  /** Arguments before the connection flags. */
  args: (seeded: Seeded) => string[]
  /** Written to stdin. */
  input?: string
  /** With `--json`: one document, or one per line (`work` streams events). */
  json: 'document' | 'lines'
  /** Works on fixed keys of its own (`demo`): concurrent runs need a database each. */
  ownKeys?: boolean
}

export const COMMANDS: readonly CommandCase[] = [
  // Two NDJSON lines from stdin go through the batch script (EVALSHA), not a single XADD.
  {name: 'publish', args: (s) => ['publish', s.topic, '--ndjson'], input: '{"n":2}\n{"n":3}\n', json: 'document'},
  // The seeded entries make the worker retry (retry hash) and dead-letter (script) too.
  {name: 'work', args: (s) => ['work', RECORDER, '-t', s.topic, '-g', 'billing', '--until-empty', '--backoff-delay', '10ms'], json: 'lines'},
  {name: 'lag', args: (s) => ['lag', s.topic], json: 'document'},
  {name: 'inspect', args: (s) => ['inspect', s.topic], json: 'document'},
  {name: 'dlq list', args: (s) => ['dlq', 'list', s.topic], json: 'document'},
  {name: 'dlq show', args: (s) => ['dlq', 'show', s.topic, s.deadLetterIds[0]], json: 'document'},
  {name: 'dlq replay', args: (s) => ['dlq', 'replay', s.topic, '--id', s.deadLetterIds[0], '--yes'], json: 'document'},
  {name: 'dlq purge', args: (s) => ['dlq', 'purge', s.topic, '--id', s.deadLetterIds[1], '--yes'], json: 'document'},
  {name: 'top', args: (s) => ['top', s.topic, '--once', '--interval', '100ms'], json: 'document'},
  {name: 'group list', args: (s) => ['group', 'list', s.topic], json: 'document'},
  // Server settings need INFO, which no role has (README, Least-privilege ACL roles): skipped here, tested in doctor-acl.test.ts.
  {name: 'doctor', args: (s) => ['doctor', '--match', s.topic, '--skip', 'server-settings'], json: 'document'},
  {name: 'tail', args: (s) => ['tail', s.topic, '--limit', '2'], json: 'lines'},
  {name: 'demo', args: () => ['demo', '--count', '10'], json: 'document', ownKeys: true},
]

/** What a profile command is run against: a profile (in its own config directory) that holds the password. */
export interface ProfileSeed {
  profile: string
  /** A URL with the password in it. */
  url: string
  password: string
}

export interface ProfileCommandCase {
  name: string
  args: (seed: ProfileSeed) => string[]
  /** Takes --json (the completion helper prints names only). */
  json: boolean
}

/**
 * The commands that store, show or use a profile's password without being in COMMANDS: the
 * `qctl profile` commands (they never connect) and the topic lookup of shell completion (it connects
 * with the profile, and prints nothing on failure, so the exit-4 checks of COMMANDS do not apply).
 */
export const PROFILE_COMMANDS: readonly ProfileCommandCase[] = [
  {name: 'profile create', args: (s) => ['profile', 'create', `${s.profile}-2`, '-u', s.url, '--password', s.password], json: true},
  {name: 'profile list', args: () => ['profile', 'list'], json: true},
  {name: 'profile show', args: (s) => ['profile', 'show', s.profile], json: true},
  {name: 'profile use', args: (s) => ['profile', 'use', s.profile], json: true},
  {name: 'profile delete', args: (s) => ['profile', 'delete', s.profile, '--yes'], json: true},
  {name: '__complete-topics', args: (s) => ['__complete-topics', '--profile', s.profile], json: false},
]

/** The commands a deployment grants to roles (`demo` writes its own keys and is no role's job). */
export const ROLE_COMMANDS: readonly CommandCase[] = COMMANDS.filter((command) => command.ownKeys !== true)

export const commandNamed = (name: string): CommandCase => {
  const found = COMMANDS.find((command) => command.name === name)
  if (found === undefined) throw new Error(`no command case ${name}`)
  return found
}

/** A dead-letter entry in the format `qctl work` writes (README, "qctl work"). */
function deadLetterFields(topic: string, originId: string, n: number): string[] {
  const failedAt = new Date().toISOString()
  return [
    'data', JSON.stringify({n}),
    'dlq.topic', topic, 'dlq.id', originId, 'dlq.group', 'billing', 'dlq.consumer', 'host-1', 'dlq.attempts', '5',
    'dlq.error-name', 'Error', 'dlq.error-message', `failed ${n}`, 'dlq.first-failure', failedAt, 'dlq.last-failure', failedAt,
  ]
}

/**
 * A topic with a consumer group and three entries for the worker (one succeeds, one fails once
 * and is retried, one fails for good and is dead-lettered), and two dead-letter entries.
 */
export async function seedTopic(redis: Redis | Cluster, topic: string): Promise<Seeded> {
  const pipeline = redis.pipeline()
  pipeline.xgroup('CREATE', topic, 'billing', '0', 'MKSTREAM')
  pipeline.xadd(topic, '*', 'data', '{"n":1}')
  pipeline.xadd(topic, '*', 'data', '{"fail":"transient","times":1}')
  pipeline.xadd(topic, '*', 'data', '{"fail":"permanent"}')
  pipeline.xadd(deadLetterKey(topic), '*', ...deadLetterFields(topic, '1700000000000-0', 10))
  pipeline.xadd(deadLetterKey(topic), '*', ...deadLetterFields(topic, '1700000000000-1', 11))
  const replies = (await pipeline.exec()) ?? []
  for (const [error] of replies) if (error !== null) throw error
  return {topic, deadLetterIds: [replies[4]?.[1] as string, replies[5]?.[1] as string]}
}

/** The `--json` output parsed: one document, or every line (throws if it is not JSON). */
export function parseJsonOutput(stdout: string, shape: CommandCase['json']): unknown[] {
  if (shape === 'document') return [JSON.parse(stdout) as unknown]
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown)
}
