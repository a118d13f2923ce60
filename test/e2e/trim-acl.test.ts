import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {TrimResult} from '../../src/core/trim/plan.js'
import {ACL_FILE, parseAclFile, aclFileText, userOf, type Role} from '../helpers/acl-docs.js'
import {jsonOf, PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {jsonEvents, type WorkEvent} from '../helpers/json-lines.js'
import {RECORDER} from '../helpers/recorder.js'
import {RedisServer} from '../helpers/redis-server.js'

/**
 * Who may trim (README, "qctl trim", ACL): the trimming user the README gives runs `qctl trim` with an
 * empty ACL LOG, on a plain and a partitioned topic; none of the four roles may trim; `qctl work
 * --trim-acked` needs the worker role plus the README's XTRIM selector, and without it the worker says
 * so once and goes on working, trimming nothing.
 */

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
const section = readme.slice(readme.indexOf('\n### qctl trim\n'), readme.indexOf('\n### qctl top\n'))
const TRIMMER_LINE = /^user qctl-trimmer .*$/m.exec(section)?.[0] ?? ''
const XTRIM_SELECTOR = /ACL SETUSER qctl-worker '(\(\+xtrim [^']+\))'/.exec(section)?.[1] ?? ''

const passwordOf = (user: string): string => `${user}-Pw-5d7e`
let server: RedisServer
let admin: Redis
let counter = 0

beforeAll(async () => {
  expect(TRIMMER_LINE).not.toBe('')
  expect(XTRIM_SELECTOR).toBe('(+xtrim ~order.* ~{order.*})')
  server = await RedisServer.start({args: ['--aclfile', ACL_FILE]})
  admin = await server.client()
  const rules = parseAclFile(aclFileText())
  for (const user of rules.keys()) await admin.call('ACL', 'SETUSER', user, `>${passwordOf(user)}`)
  const [, name, ...trimmerRules] = TRIMMER_LINE.split(/\s+/)
  const trimmer = parseAclFile(`user ${name} ${trimmerRules.join(' ')}\n`).get(name!) ?? []
  await admin.call('ACL', 'SETUSER', name!, ...trimmer, `>${passwordOf(name!)}`)
  await admin.call('ACL', 'SETUSER', 'trimming-worker', ...(rules.get(userOf('worker')) ?? []), XTRIM_SELECTOR, `>${passwordOf('trimming-worker')}`)
})

afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})

const asUser = (user: string): string[] => ['-u', `redis://${user}:${encodeURIComponent(passwordOf(user))}@127.0.0.1:${server.port}`]
const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 1500)}\nstderr:\n${result.stderr.slice(-1500)}`

/** A topic whose group `billing` has handled the first `acked` of `count` entries. */
async function seed(count: number, acked: number): Promise<string> {
  const topic = `order.trim-${++counter}`
  for (let i = 0; i < count; i++) await admin.xadd(topic, '*', 'data', JSON.stringify({n: i}))
  await admin.xgroup('CREATE', topic, 'billing', '0')
  const reply = (await admin.xreadgroup('GROUP', 'billing', 'c', 'COUNT', acked, 'STREAMS', topic, '>')) as Array<[string, Array<[string, string[]]>]>
  await admin.xack(topic, 'billing', ...reply[0]![1].map(([id]) => id))
  return topic
}

const aclLog = async (): Promise<unknown[]> => (await admin.call('ACL', 'LOG')) as unknown[]

describe('qctl trim as the README\'s trimming user', () => {
  it('plans and trims a plain topic, and a partitioned one, with nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const topic = await seed(10, 6)
    const dry = await runCli(['trim', topic, '--maxlen', '0', '--dry-run', '--json', ...asUser('qctl-trimmer')])
    expect(dry.code, diagnosis(dry)).toBe(0)
    expect(jsonOf<TrimResult>(dry).totals.safe.entries).toBe(6)
    const done = await runCli(['trim', topic, '--maxlen', '0', '--yes', '--json', ...asUser('qctl-trimmer')])
    expect(done.code, diagnosis(done)).toBe(0)
    expect(jsonOf<TrimResult>(done).totals.removed).toBe(6)
    const created = await runCli(['topic', 'create', 'order.trim-parts', '--partitions', '3', '-u', server.url])
    expect(created.code, diagnosis(created)).toBe(0)
    const published = await runCli(['publish', 'order.trim-parts', '--data', '{"n":1}', '--key', 'k', '-u', server.url])
    expect(published.code, diagnosis(published)).toBe(0)
    const parts = await runCli(['trim', 'order.trim-parts', '--maxlen', '0', '--yes', '--json', ...asUser('qctl-trimmer')])
    expect(parts.code, diagnosis(parts)).toBe(0)
    expect(jsonOf<TrimResult>(parts).totals.removed).toBe(1)
    expect(await aclLog()).toEqual([])
  })
})

describe('the four roles may not trim', () => {
  it.each([
    // The publisher may ask Redis's TIME (publishing once and delayed messages count by it): refused the next step.
    ['publisher', 'XINFO\\|GROUPS'],
    ['operator', 'TIME'],
    ['monitor', 'EVAL'],
    // Redis names no command refused inside a script; Valkey names it.
    ['worker', '(a command in a script|XLEN)'],
  ] as Array<[Role, string]>)('%s: exit 4 naming %s, nothing removed', async (role, command) => {
    const topic = await seed(5, 5)
    const result = await runCli(['trim', topic, '--maxlen', '0', '--yes', ...asUser(userOf(role))])
    expect(result.code, diagnosis(result)).toBe(4)
    expect(result.stderr).toMatch(new RegExp(`Error: permission denied for ${command} `))
    expect(await admin.xlen(topic)).toBe(5)
  })
})

describe('qctl work --trim-acked and the worker role', () => {
  const work = (topic: string, user: string): string[] => ['work', RECORDER, '-t', topic, '-g', 'fast', '--until-empty', '--trim-acked', '--json', ...asUser(user)]

  it('with the XTRIM selector: trims behind every group, nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const topic = await seed(10, 4)
    const result = await runCli(work(topic, 'trimming-worker'))
    expect(result.code, diagnosis(result)).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 10, trimmed: 4})
    expect(await admin.xlen(topic)).toBe(6)
    expect(await aclLog()).toEqual([])
  })

  it('the worker role alone: one warning naming the grant, the messages handled, nothing trimmed', async () => {
    const topic = await seed(10, 4)
    const result = await runCli(work(topic, userOf('worker')))
    expect(result.code, diagnosis(result)).toBe(0)
    const warnings = jsonEvents(result.stdout).filter((event: WorkEvent) => event.event === 'warning')
    expect(warnings).toHaveLength(1)
    expect(String(warnings[0]?.['message'])).toContain('--trim-acked: trimming is refused by the ACL, so the worker goes on without it (grant the worker XTRIM on the topic: the selector (+xtrim ~TOPIC)')
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 10, trimmed: 0})
    expect(await admin.xlen(topic)).toBe(10)
  })
})
