import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {LagRow} from '../../src/core/lag/lag.js'
import type {InspectResult} from '../../src/core/stats/inspect.js'
import {userOf} from '../helpers/acl-docs.js'
import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {startAclServer, type AclServer} from '../helpers/acl-server.js'
import type {RedisServer} from '../helpers/redis-server.js'

/**
 * The counts of scheduled messages as the monitor role reads them (README, "Least-privilege ACL
 * roles"): the role file's monitor reads them (in the read script, and with plain commands when it
 * may not run scripts); a monitor from a role file older than them (no ZCARD, no schedule keys) still
 * gets every other figure, the schedule counted as unknown, never a failure.
 */

const passwordOf = (user: string): string => acl.passwordOf(user)
const TOPIC = 'order.reminder'

let acl: AclServer
let server: RedisServer
let admin: Redis

const asUser = (user: string): string[] => acl.asUser(user)
const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 2000)}\nstderr:\n${result.stderr.slice(-1500)}`

/** The monitor's rules without some of them. */
const monitorWithout = (rules: readonly string[], dropped: readonly string[]): string[] => rules.filter((rule) => !dropped.includes(rule))

beforeAll(async () => {
  acl = await startAclServer('Sc-77')
  ;({server, admin} = acl)
  const {rules} = acl
  const monitor = rules.get(userOf('monitor')) ?? []
  expect(monitor).toContain('%R~{order.*}:scheduled')
  // A monitor from the role file before qctl counted schedules, and one that may not run the read script.
  await acl.addUser('old-monitor', monitorWithout(monitor, ['+zcard', '+zcount', '+zrange', '%R~{order.*}:scheduled']))
  await acl.addUser('plain-monitor', monitorWithout(monitor, ['+evalsha_ro', '+eval_ro']))

  await admin.xadd(TOPIC, '*', 'data', '{"n":0}')
  await admin.xgroup('CREATE', TOPIC, 'mailer', '0')
  const publisher = asUser(userOf('publisher'))
  for (const [when, count] of [['--delay', 4], ['--at', 2]] as const) {
    const published = await runCli(['publish', TOPIC, '--ndjson', when, when === '--delay' ? '1h' : '2020-01-01T00:00:00Z', ...publisher], {input: '{"n":1}\n'.repeat(count)})
    expect(published.code, diagnosis(published)).toBe(0)
  }
})

afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})

describe('scheduled counts and the monitor role', () => {
  it('the role file monitor: lag and inspect count them, nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const lag = await runCli(['lag', TOPIC, '--json', ...asUser(userOf('monitor'))])
    expect(lag.code, diagnosis(lag)).toBe(0)
    expect(jsonOf<LagRow[]>(lag)[0]).toMatchObject({length: 1, lag: 1, scheduled: 6, scheduledDue: 2})
    const inspect = await runCli(['inspect', TOPIC, '--json', ...asUser(userOf('monitor'))])
    expect(inspect.code, diagnosis(inspect)).toBe(0)
    expect(jsonOf<InspectResult>(inspect).scheduled).toEqual({key: `{${TOPIC}}:scheduled`, messages: 6, due: 2, nextDueAt: '2020-01-01T00:00:00.000Z'})
    expect(await admin.call('ACL', 'LOG')).toEqual([])
  })

  it('a monitor that may not run the read script counts them with plain commands', async () => {
    const lag = await runCli(['lag', TOPIC, '--json', ...asUser('plain-monitor')])
    expect(lag.code, diagnosis(lag)).toBe(0)
    expect(jsonOf<LagRow[]>(lag)[0]).toMatchObject({length: 1, lag: 1, scheduled: 6, scheduledDue: 2})
  })

  it('a monitor from an older role file: every other figure, the schedule unknown (null; no SCHEDULED column)', async () => {
    const lag = await runCli(['lag', TOPIC, '--json', ...asUser('old-monitor')])
    expect(lag.code, diagnosis(lag)).toBe(0)
    expect(jsonOf<LagRow[]>(lag)[0]).toMatchObject({length: 1, lag: 1, scheduled: null, scheduledDue: null})
    const table = await runCli(['lag', TOPIC, ...asUser('old-monitor')])
    expect(table.code, diagnosis(table)).toBe(0)
    expect(table.stdout).not.toMatch(/SCHED/)
    const inspect = await runCli(['inspect', TOPIC, ...asUser('old-monitor')])
    expect(inspect.code, diagnosis(inspect)).toBe(0)
    expect(inspect.stdout).toMatch(/Scheduled .*: unknown/)
  })
})
