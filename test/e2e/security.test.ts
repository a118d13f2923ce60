import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCli, type CliResult} from '../helpers/cli.js'
import {COMMANDS, parseJsonOutput, PROFILE_COMMANDS, seedTopic, type CommandCase} from '../helpers/command-table.js'
import {RedisServer} from '../helpers/redis-server.js'

/**
 * Credentials, for every command: a canary password given through each of the four ways qctl
 * takes one (the URL, $QCTL_REDIS_PASSWORD, --password-file, a profile holding it) never shows up in anything qctl writes (human output, --json, debug logs, errors),
 * and a wrong password or an unknown user exits 4 naming the user and the host.
 */

// Characters a URL must percent-encode, so both the raw and the encoded form are watched for.
const CANARY = 'C4nary:pw@7f3a/91'
const WRONG = `${CANARY}-wrong`
const APP_USER = 'qctl-app'
/** `profile`: stored in clear in a profile (`profile create --password`), used with --profile. */
const SOURCES = ['url', 'env', 'file', 'profile'] as const
type Source = (typeof SOURCES)[number]

interface Row {
  title: string
  command: CommandCase
  source: Source
  json: boolean
  debug: string | undefined
  user: string | undefined
  password: string
  outcome: 'ok' | 'auth-failed'
}

/**
 * Per command: the four sources succeed, each with another output (human with DEBUG=*, --json
 * with DEBUG=ioredis:*, human without DEBUG), then a wrong password and an unknown user, with the
 * source and output rotating over the commands so every combination appears somewhere.
 */
function rowsOf(command: CommandCase, index: number): Row[] {
  const base = {command, title: command.name}
  const rotate = (offset: number): Source => SOURCES[(index + offset) % SOURCES.length] as Source
  return [
    {...base, source: 'url', json: false, debug: '*', user: APP_USER, password: CANARY, outcome: 'ok'},
    {...base, source: 'env', json: true, debug: 'ioredis:*', user: undefined, password: CANARY, outcome: 'ok'},
    {...base, source: 'file', json: false, debug: undefined, user: undefined, password: CANARY, outcome: 'ok'},
    {...base, source: 'profile', json: index % 2 === 0, debug: '*', user: index % 2 === 0 ? APP_USER : undefined, password: CANARY, outcome: 'ok'},
    {...base, source: rotate(0), json: index % 2 === 0, debug: '*', user: APP_USER, password: WRONG, outcome: 'auth-failed'},
    {...base, source: rotate(1), json: index % 2 === 1, debug: 'ioredis:*', user: 'nobody', password: CANARY, outcome: 'auth-failed'},
  ]
}

const ROWS = COMMANDS.flatMap(rowsOf)

let server: RedisServer
let admin: Redis
let dir: string
let counter = 0
/** `demo` rewrites fixed keys: each successful run gets a database of its own. */
let nextDatabase = 1

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-security-'))
  await writeFile(join(dir, 'pw-right'), `${CANARY}\n`)
  await writeFile(join(dir, 'pw-wrong'), `${WRONG}\n`)
  server = await RedisServer.start({args: ['--requirepass', CANARY]})
  admin = await server.client({password: CANARY})
  await admin.call('ACL', 'SETUSER', APP_USER, 'on', `>${CANARY}`, '~*', '&*', '+@all')
  await admin.call('ACL', 'SETUSER', 'qctl-reader', 'on', `>${CANARY}`, '~*', '+@read', '+ping', '+client|setname')
})

afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
  if (dir !== undefined) await rm(dir, {recursive: true, force: true})
})

/** The connection flags and environment that give `password` through `source` (a profile is created for it). */
async function connection(row: Pick<Row, 'source' | 'user' | 'password'>, database: number): Promise<{args: string[]; env: Record<string, string>}> {
  const user = row.user === undefined ? '' : encodeURIComponent(row.user)
  const hostPart = `127.0.0.1:${server.port}${database === 0 ? '' : `/${database}`}`
  const withoutPassword = `redis://${user}${user === '' ? '' : '@'}${hostPart}`
  switch (row.source) {
    case 'url':
      return {args: ['-u', `redis://${user}:${encodeURIComponent(row.password)}@${hostPart}`], env: {}}
    case 'env':
      return {args: ['-u', withoutPassword], env: {QCTL_REDIS_PASSWORD: row.password}}
    case 'file':
      return {args: ['-u', withoutPassword, '--password-file', join(dir, row.password === CANARY ? 'pw-right' : 'pw-wrong')], env: {}}
    case 'profile': {
      const config = await mkdtemp(join(dir, 'config-'))
      const created = await runCli(['profile', 'create', 'sec', '-u', withoutPassword, '--password', row.password], {env: {XDG_CONFIG_HOME: config, DEBUG: '*'}})
      expect(created.code, created.stderr).toBe(0)
      expectNoSecret(created)
      return {args: ['--profile', 'sec'], env: {XDG_CONFIG_HOME: config}}
    }
  }
}

/** Everything the run wrote, for the canary check (the wrong password contains the canary). */
const everything = (result: CliResult): string => `${result.stdout}\n${result.stderr}`

function expectNoSecret(result: CliResult): void {
  const text = everything(result)
  expect(text).not.toContain(CANARY)
  expect(text).not.toContain(encodeURIComponent(CANARY))
}

const described = (row: Row): string =>
  `${row.title}: ${row.outcome === 'ok' ? 'works' : `exits 4 for ${row.user === 'nobody' ? 'an unknown user' : 'a wrong password'}`} with the password from ${row.source}, ${row.json ? '--json' : 'human output'}${row.debug === undefined ? '' : `, DEBUG=${row.debug}`}`

describe.concurrent('a password never appears in output, and bad credentials exit 4 naming user and host', () => {
  it.each(ROWS.map((row) => [described(row), row] as const))('%s', async (_title, row) => {
    const seeded = await seedTopic(admin, `sec.${++counter}`)
    const database = row.outcome === 'ok' && row.command.ownKeys === true ? nextDatabase++ : 0
    const {args, env} = await connection(row, database)
    const result = await runCli([...row.command.args(seeded), ...args, ...(row.json ? ['--json'] : [])], {
      env: {...env, DEBUG: row.debug},
      input: row.command.input,
    })
    const diagnosis = `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 2000)}\nstderr:\n${result.stderr.slice(-2000)}`

    expectNoSecret(result)
    // The debug log was really on (so the check above covered it).
    if (row.debug !== undefined) expect(result.stderr, diagnosis).toContain('ioredis:')

    const user = row.user ?? 'default'
    const failure = `authentication failed for user '${user}' on 127.0.0.1:${server.port}: wrong password, unknown user or user disabled`
    if (row.outcome === 'ok') {
      expect(result.code, diagnosis).toBe(0)
      if (row.json) expect(() => parseJsonOutput(result.stdout, row.command.json), diagnosis).not.toThrow()
    } else if (row.json) {
      expect(result.code, diagnosis).toBe(4)
      expect(JSON.parse(result.stdout), diagnosis).toMatchObject({error: {code: 'AUTH_FAILED', message: failure, exitCode: 4}})
    } else {
      expect(result.code, diagnosis).toBe(4)
      expect(result.stderr, diagnosis).toContain(`Error: ${failure}\n`)
    }
  })
})

describe.concurrent('errors after connecting do not carry the password either', () => {
  it('a missing topic (exit 6), with DEBUG=qctl printing the stack', async () => {
    const result = await runCli(['inspect', 'sec.missing', ...(await connection({source: 'url', user: APP_USER, password: CANARY}, 0)).args], {env: {DEBUG: 'qctl'}})
    expect(result.code).toBe(6)
    expect(result.stderr).toContain('Error: topic "sec.missing" does not exist')
    expectNoSecret(result)
  })

  it('a refused command (exit 4 naming the user and the command), with --json and DEBUG=*', async () => {
    const {args, env} = await connection({source: 'env', user: 'qctl-reader', password: CANARY}, 0)
    const result = await runCli(['publish', 'sec.denied', '--data', '{}', ...args, '--json'], {env: {...env, DEBUG: '*'}})
    expect(result.code).toBe(4)
    expect(JSON.parse(result.stdout)).toMatchObject({error: {code: 'NO_PERMISSION', message: expect.stringContaining(`permission denied for XADD to user 'qctl-reader' on 127.0.0.1:${server.port}`)}})
    expectNoSecret(result)
  })
})

describe.concurrent('profile commands never print the password a profile holds', () => {
  const cases = PROFILE_COMMANDS.flatMap((command) => [
    {command, form: 'url' as const, json: false, debug: '*'},
    {command, form: 'clear' as const, json: command.json, debug: 'ioredis:*,oclif:*'},
  ])
  it.each(cases.map((row) => [`${row.command.name}: a password ${row.form === 'url' ? 'in the URL' : 'given with --password'}, ${row.json ? '--json' : 'human output'}, DEBUG=${row.debug}`, row] as const))(
    '%s',
    async (_title, row) => {
      const config = await mkdtemp(join(dir, 'config-'))
      const url = `redis://${APP_USER}:${encodeURIComponent(CANARY)}@127.0.0.1:${server.port}`
      const created = await runCli(['profile', 'create', 'sec', '-u', row.form === 'url' ? url : `redis://${APP_USER}@127.0.0.1:${server.port}`, ...(row.form === 'clear' ? ['--password', CANARY] : [])], {
        env: {XDG_CONFIG_HOME: config, DEBUG: row.debug},
      })
      expect(created.code, created.stderr).toBe(0)
      expectNoSecret(created)
      const topic = (await seedTopic(admin, `sec.${++counter}`)).topic
      const result = await runCli([...row.command.args({profile: 'sec', url, password: CANARY}), ...(row.json ? ['--json'] : [])], {env: {XDG_CONFIG_HOME: config, DEBUG: row.debug}})
      const diagnosis = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr.slice(-2000)}`
      expect(result.code, diagnosis).toBe(0)
      expectNoSecret(result)
      if (row.json) expect(() => JSON.parse(result.stdout) as unknown, diagnosis).not.toThrow()
      if (row.command.name === '__complete-topics') expect(result.stdout.split('\n'), diagnosis).toContain(topic)
    },
  )
})
