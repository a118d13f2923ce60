import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DoctorResult} from '../../src/core/doctor/types.js'
import {userOf} from '../helpers/acl-docs.js'
import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {startAclServer, type AclServer} from '../helpers/acl-server.js'
import type {RedisServer} from '../helpers/redis-server.js'

/**
 * `qctl doctor` as the least-privilege roles run it (README, "qctl doctor" and "Least-privilege ACL
 * roles"): the monitor reads everything it checks but the server's settings (INFO, which no role
 * has: a note, not an error); `--fix` needs the consumer removal the monitor lacks (exit 4, nothing
 * removed), given by the documented selector; a user given +info gets the settings checked.
 */

const passwordOf = (user: string): string => acl.passwordOf(user)
/** The selector the README gives the user that runs `doctor --fix`, on top of the monitor's rules. */
const FIX_SELECTOR = '(+evalsha +eval +xinfo|consumers +xgroup|delconsumer ~order.* ~{order.*} ~{order.*}:replay:*)'
const LIMITS = ['--match', 'order.*', '--leftover-after', '1s', '--max-untrimmed', '50']

let acl: AclServer
let server: RedisServer
let admin: Redis

const asUser = (user: string): string[] => acl.asUser(user)
const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 3000)}\nstderr:\n${result.stderr.slice(-1500)}`
const doctorAs = async (user: string, ...args: string[]): Promise<CliResult> => runCli(['doctor', ...LIMITS, ...args, ...asUser(user)], {timeoutMs: 60_000})

/** What the ACL LOG holds: the command (or key) each refusal was for. */
async function refusals(): Promise<string[]> {
  const entries = (await admin.call('ACL', 'LOG')) as unknown[][]
  return entries.map((entry) => {
    const fields = new Map<string, unknown>()
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1])
    return String(fields.get('object'))
  })
}

const consumers = async (): Promise<string[]> => ((await admin.call('XINFO', 'CONSUMERS', 'order.doc', 'billing')) as unknown[][]).map((row) => String(row[1]))

beforeAll(async () => {
  acl = await startAclServer('Dr-41')
  ;({server, admin} = acl)
  const {rules} = acl
  const monitor = rules.get(userOf('monitor')) ?? []
  await acl.addUser('doctor-fixer', [...monitor, FIX_SELECTOR])
  await acl.addUser('doctor-info', [...monitor, '+info'])

  // A group with a consumer that holds nothing (a leftover past 1 s), retry records of entries that
  // are gone (on the topic's lane and the replay lane), and a stream never trimmed past 50 entries.
  const [id] = [await admin.xadd('order.doc', '*', 'data', '{}')]
  await admin.xgroup('CREATE', 'order.doc', 'billing', '0')
  await admin.xreadgroup('GROUP', 'billing', 'gone', 'COUNT', 1, 'STREAMS', 'order.doc', '>')
  await admin.xack('order.doc', 'billing', id as string)
  await admin.hset('{order.doc}:retry:billing', '1-0', '0:1:1:0')
  await admin.xadd('{order.doc}:replay:billing', '*', 'data', '{}')
  await admin.xgroup('CREATE', '{order.doc}:replay:billing', 'billing', '0')
  await admin.hset('{order.doc}:replay-retry:billing', '1-0', '0:1:1:0')
  for (let n = 0; n < 60; n++) await admin.xadd('order.big', '*', 'data', `{"n":${n}}`)
  // A schedule (a message due in an hour): read by the overdue-scheduled check, found nothing.
  await admin.zadd('{order.doc}:scheduled', Date.now() + 3_600_000, 'm')
  while (((await admin.call('XINFO', 'CONSUMERS', 'order.doc', 'billing')) as unknown[][]).some((row) => Number(row[5]) < 1100)) await new Promise((resolve) => setTimeout(resolve, 100))
})

afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})

describe('qctl doctor and the ACL roles', () => {
  it('monitor: every check but the settings; INFO refused is a note (exit 0), the only refusal in the ACL LOG', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const result = await doctorAs(userOf('monitor'), '--json')
    expect(result.code, diagnosis(result)).toBe(0)
    const json = jsonOf<DoctorResult>(result)
    const note = json.findings.find((finding) => finding.check === 'server-settings')
    expect(note).toMatchObject({severity: 'info', node: `127.0.0.1:${server.port}`, fix: `redis-cli -h 127.0.0.1 -p ${server.port} ACL SETUSER qctl-monitor +info`})
    expect(note?.message).toBe('could not check persistence, eviction and replicas: the ACL user "qctl-monitor" may not run INFO (grant it +info, run qctl doctor as an administrator, or --skip server-settings)')
    expect(json.findings.filter((finding) => finding.check === 'server-settings')).toHaveLength(1)
    // What needed MEMORY USAGE and HLEN/HSCAN of the retry hashes was read.
    expect(Number(json.findings.find((finding) => finding.check === 'unbounded-stream')?.evidence.memoryBytes)).toBeGreaterThan(0)
    expect(json.findings.filter((finding) => finding.check === 'orphan-retry-records').map((finding) => finding.key).sort()).toEqual(['{order.doc}:replay-retry:billing', '{order.doc}:retry:billing'])
    expect(json.findings.find((finding) => finding.check === 'leftover-consumer')?.consumer).toBe('gone')
    expect(json.counts).toMatchObject({error: 0, info: 1})
    expect(json.looked.schedules).toBe(1)
    expect(await refusals()).toEqual(['info'])
  })

  it('monitor with --skip server-settings: not refused anything (empty ACL LOG)', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const result = await doctorAs(userOf('monitor'), '--skip', 'server-settings', '--json')
    expect(result.code, diagnosis(result)).toBe(0)
    expect(jsonOf<DoctorResult>(result).findings.some((finding) => finding.check === 'server-settings')).toBe(false)
    expect(await refusals()).toEqual([])
  })

  it('a user given +info gets the settings checked (appendonly no: an error, exit 8)', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const result = await doctorAs('doctor-info', '--json')
    expect(result.code, diagnosis(result)).toBe(8)
    const settings = jsonOf<DoctorResult>(result).findings.filter((finding) => finding.check === 'server-settings')
    expect(settings.map((finding) => [finding.severity, finding.evidence.setting])).toEqual([
      ['error', 'appendonly'],
      ['warn', 'replicas'],
    ])
    expect(await refusals()).toEqual([])
  })

  it('monitor --fix --yes: refused (exit 4, naming the script call), nothing removed', async () => {
    const result = await doctorAs(userOf('monitor'), '--skip', 'server-settings', '--fix', '--yes')
    expect(result.code, diagnosis(result)).toBe(4)
    expect(result.stderr).toMatch(/^Error: permission denied for EVAL(SHA)? to user 'qctl-monitor' on 127\.0\.0\.1:\d+: /m)
    expect(await consumers()).toContain('gone')
  })

  it('the monitor plus the --fix selector: removes the leftover, refused nothing', async () => {
    await admin.call('ACL', 'LOG', 'RESET')
    const result = await doctorAs('doctor-fixer', '--skip', 'server-settings', '--fix', '--yes', '--json')
    expect(result.code, diagnosis(result)).toBe(0)
    expect(jsonOf<DoctorResult>(result).fix).toMatchObject({removed: 1, kept: 0})
    expect(await consumers()).not.toContain('gone')
    expect(await refusals()).toEqual([])
  })
})
