import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsonOf, PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {freePort, RedisServer} from '../helpers/redis-server.js'

const CANARY = 'Canary-PW-7f3a91'
const output = (result: CliResult): string => result.stdout + result.stderr

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-conn-'))
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('unreachable Redis', () => {
  it('exits 3 naming host, port and cause when the port is closed', async () => {
    const port = await freePort()
    const result = await runCli(['publish', 't', '--data', '{}', '-u', `redis://127.0.0.1:${port}`])
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(`Error: cannot connect to 127.0.0.1:${port}: connection refused\n`)
  })

  it('exits 3 within --connect-timeout when the server never answers', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const {port} = silent.address() as {port: number}
    try {
      const result = await runCli(['publish', 't', '--data', '{}', '-u', `redis://127.0.0.1:${port}`, '--connect-timeout', '1s', '--json'])
      expect(result.code).toBe(3)
      expect(jsonOf(result)).toEqual({
        error: {code: 'REDIS_UNAVAILABLE', message: `cannot connect to 127.0.0.1:${port}: timed out after 1s`, exitCode: 3},
      })
      // Ends (not an endless retry): the bound is loose on purpose, a loaded machine starts processes slowly.
      expect(result.durationMs).toBeLessThan(30_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  it('rediss:// to a plain-text Redis (which never answers a TLS handshake) says it looks like one, with a hint; nothing is written', async () => {
    const plain = await RedisServer.start()
    try {
      const url = `rediss://:${CANARY}@127.0.0.1:${plain.port}`
      const result = await runCli(['publish', 'tls.nope', '--data', '{}', '-u', url, '--connect-timeout', '1s'])
      expect(result.code).toBe(3)
      expect(result.stderr).toBe(
        `Error: cannot connect to 127.0.0.1:${plain.port}: no TLS handshake within 1s, and it answers plain-text Redis commands: it looks like a plain-text server\n` +
          'Hint: use redis:// (not rediss://) for a server without TLS, or check the port\n',
      )
      const silentServer = createServer(() => undefined)
      await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve))
      const {port} = silentServer.address() as {port: number}
      // A port where nothing answers at all is only a timeout, not called a plain-text server.
      const silent = await runCli(['lag', '-u', `rediss://127.0.0.1:${port}`, '--connect-timeout', '1s'])
      silentServer.close()
      expect(silent.stderr).toBe(`Error: cannot connect to 127.0.0.1:${port}: timed out after 1s\n`)
      const client = await plain.client()
      expect(await client.exists('tls.nope')).toBe(0)
      client.disconnect()
    } finally {
      await plain.stop()
    }
  })
})

describe('authentication and permissions', () => {
  let server: RedisServer
  let admin: Redis

  beforeAll(async () => {
    server = await RedisServer.start({args: ['--requirepass', CANARY]})
    admin = await server.client({password: CANARY})
    await admin.call('ACL', 'SETUSER', 'reader', 'on', `>${CANARY}`, '~*', '+@all', '-xadd')
    // What publish needs at least: XADD to its topics, and reading their metadata (is the topic partitioned?).
    await admin.call('ACL', 'SETUSER', 'writer', 'on', `>${CANARY}`, '~orders.*', '+xadd', '+ping', '(+hgetall %R~qctl:topic:{orders.*})')
  })

  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  const url = (credentials: string): string => `redis://${credentials}@127.0.0.1:${server.port}`

  it('publishes with the password from the URL, QCTL_REDIS_PASSWORD or --password-file', async () => {
    const file = join(dir, 'password')
    await writeFile(file, `${CANARY}\n`)
    const viaUrl = await runCli(['publish', 'orders.a', '--data', '{"n":1}', '-u', url(`:${CANARY}`)])
    const viaEnv = await runCli(['publish', 'orders.a', '--data', '{"n":2}', '-u', server.url], {env: {QCTL_REDIS_PASSWORD: CANARY}})
    const viaFile = await runCli(['publish', 'orders.a', '--data', '{"n":3}', '-u', server.url, '--password-file', file])
    for (const result of [viaUrl, viaEnv, viaFile]) {
      expect(result.code).toBe(0)
      expect(output(result)).not.toContain(CANARY)
    }
    expect(await admin.xlen('orders.a')).toBe(3)
  })

  it('exits 4 on a wrong password without printing it, even with --json and DEBUG=*', async () => {
    const wrong = `${CANARY}-wrong`
    const cases: Array<[string[], Record<string, string>]> = [
      [['-u', url(`:${wrong}`)], {}],
      [['-u', url(`:${wrong}`), '--json'], {DEBUG: '*'}],
      [['-u', server.url], {QCTL_REDIS_PASSWORD: wrong, DEBUG: 'qctl,ioredis:*'}],
      [['-u', `redis://default:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}`], {DEBUG: 'ioredis:*'}],
    ]
    for (const [args, env] of cases) {
      const result = await runCli(['publish', 't', '--data', '{}', ...args], {env})
      expect(result.code).toBe(4)
      expect(output(result)).toContain(`authentication failed for user 'default' on 127.0.0.1:${server.port}`)
      expect(output(result)).not.toContain(CANARY)
    }
  })

  it('masks a password of any length where it is a credential, without masking the same word elsewhere', async () => {
    const short = await RedisServer.start({args: ['--requirepass', 'xY']})
    const worded = await RedisServer.start({args: ['--requirepass', 'right']})
    try {
      // DEBUG=* makes oclif log argv (the URL) and ioredis log auth([ 'xY' ]).
      const debug = await runCli(['lag', '-u', `redis://:xY@127.0.0.1:${short.port}`], {env: {DEBUG: '*'}})
      expect(debug.code).toBe(0)
      expect(output(debug)).toContain(`redis://:***@127.0.0.1:${short.port}`)
      expect(output(debug)).toContain('auth(***)')
      expect(output(debug)).not.toMatch(/:xY@|'xY'/)
      // A password that is a word: the credential is masked, the same word in the message is not.
      const wrong = await runCli(['lag', '-u', `redis://:wrong@127.0.0.1:${worded.port}`], {env: {DEBUG: '*'}})
      expect(wrong.code).toBe(4)
      expect(wrong.stderr).toContain('wrong password, unknown user or user disabled')
      expect(output(wrong)).not.toMatch(/:wrong@|'wrong'/)
    } finally {
      await short.stop()
      await worded.stop()
    }
  })

  it('exits 4 without a password, naming the user', async () => {
    const result = await runCli(['publish', 't', '--data', '{}', '-u', server.url])
    expect(result.code).toBe(4)
    expect(result.stderr.split('\n')[0]).toBe(`Error: authentication required by 127.0.0.1:${server.port} for user 'default': no password given`)
  })

  it('exits 4 for an unknown user, naming the user', async () => {
    const result = await runCli(['publish', 't', '--data', '{}', '-u', url(`nobody:${CANARY}`)])
    expect(result.code).toBe(4)
    expect(result.stderr).toContain(`authentication failed for user 'nobody' on 127.0.0.1:${server.port}`)
    expect(output(result)).not.toContain(CANARY)
  })

  it('exits 4 for an ACL user without XADD, naming user and command, and writes nothing', async () => {
    const result = await runCli(['publish', 'orders.denied', '--data', '{}', '-u', url(`reader:${CANARY}`), '--json'])
    expect(result.code).toBe(4)
    const json = jsonOf<{error: {code: string; message: string}}>(result)
    expect(json.error.code).toBe('NO_PERMISSION')
    // The reason is the server's own words: Redis says "this user", Valkey "User reader".
    expect(json.error.message).toMatch(
      new RegExp(`^permission denied for XADD to user 'reader' on 127\\.0\\.0\\.1:${server.port}: (this user|User reader) has no permissions to run the 'xadd' command; nothing was published$`),
    )
    expect(output(result)).not.toContain(CANARY)
    expect(await admin.exists('orders.denied')).toBe(0)
  })

  it('works for a least-privilege user that may only XADD and read topic metadata (no INFO, no CLIENT)', async () => {
    // Without EVALSHA, publish falls back from its batch script to pipelined XADDs: same entries.
    const file = join(dir, 'min.ndjson')
    await writeFile(file, '{"n":1}\n{"n":2}\n{"n":3}\n')
    const result = await runCli(['publish', 'orders.min', file, '-u', url(`writer:${CANARY}`), '--header', 'h=v'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const stored = await admin.xrange('orders.min', '-', '+')
    expect(stored.map(([, fields]) => fields)).toEqual([1, 2, 3].map((n) => ['data', `{"n":${n}}`, 'headers', '{"h":"v"}']))
    // Outside its patterns it is refused at the first key it touches, the topic's metadata, and writes nothing.
    const denied = await runCli(['publish', 'elsewhere', '--data', '{}', '-u', url(`writer:${CANARY}`)])
    expect(denied.code).toBe(4)
    expect(denied.stderr).toContain("permission denied for HGETALL to user 'writer'")
    expect(await admin.exists('elsewhere')).toBe(0)
    // A name with braces cannot be partitioned, so nothing is looked up: refused at the XADD itself.
    const tagged = await runCli(['publish', '{elsewhere}', '--data', '{}', '-u', url(`writer:${CANARY}`)])
    expect(tagged.code).toBe(4)
    expect(tagged.stderr).toContain("permission denied for XADD to user 'writer'")
    expect(await admin.exists('{elsewhere}')).toBe(0)
  })

  it('selects the database given in the URL', async () => {
    const result = await runCli(['publish', 'orders.db3', '--data', '{}', '-u', `${url(`:${CANARY}`)}/3`])
    expect(result.code).toBe(0)
    await admin.select(3)
    expect(await admin.xlen('orders.db3')).toBe(1)
    await admin.select(0)
  })
})

describe('the URL\'s database: used, or the command fails before anything is read or written', () => {
  // The default `databases 16`: indexes 0 to 15.
  const ctx = usePrivateRedis()
  const handler = join(PROJECT_ROOT, 'bench', 'handlers', 'noop.mjs')
  const commands: Array<[string, string[]]> = [
    ['publish', ['publish', 'db.t', '--data', '{}']],
    ['lag', ['lag']],
    ['lag TOPIC', ['lag', 'db.t']],
    ['inspect', ['inspect', 'db.t']],
    ['top --once', ['top', '--once']],
    ['dlq list', ['dlq', 'list', 'db.t']],
    ['work', ['work', handler, '--topic', 'db.t', '--until-empty']],
  ]

  let server: RedisServer
  let admin: Redis

  beforeAll(async () => {
    server = ctx.server
    admin = ctx.redis
    await admin.call('ACL', 'SETUSER', 'nosel', 'on', `>${CANARY}`, '~*', '+@all', '-select')
  })

  /** Nothing written to database 0 (nor to the refused one): the command stopped at SELECT. */
  async function expectNothingWritten(): Promise<void> {
    for (const db of [0, 3, 15]) {
      await admin.select(db)
      expect(await admin.dbsize(), `database ${db}`).toBe(0)
    }
    await admin.select(0)
  }

  it.each(commands)('%s: an index the server does not have exits 2 naming it', async (_name, args) => {
    const result = await runCli([...args, '-u', `${server.url}/16`])
    expect(result.code, output(result)).toBe(2)
    expect(result.stderr).toBe(`Error: database 16 does not exist on 127.0.0.1:${server.port} (the URL's /16; the server's \`databases\` setting bounds the index)\n`)
    await expectNothingWritten()
  })

  it.each(commands)('%s: a user whose ACL refuses SELECT exits 4 naming user and database', async (_name, args) => {
    const result = await runCli([...args, '-u', `redis://nosel:${CANARY}@127.0.0.1:${server.port}/3`, '--json'])
    expect(result.code, output(result)).toBe(4)
    expect(jsonOf(result)).toEqual({
      error: {code: 'NO_PERMISSION', message: `user "nosel" may not select database 3 on 127.0.0.1:${server.port} (its ACL lacks SELECT): grant +select, or use database 0`, exitCode: 4},
    })
    expect(output(result)).not.toContain(CANARY)
    await expectNothingWritten()
  })

  it('an index the server has: every command works in it, and database 0 is untouched', async () => {
    const url = `${server.url}/3`
    expect((await runCli(['publish', 'db.t', '--data', '{"n":1}', '-u', url])).code).toBe(0)
    const worked = await runCli(['work', handler, '--topic', 'db.t', '--group', 'g', '--until-empty', '--json', '-u', url])
    expect(worked.code, output(worked)).toBe(0)
    const lag = jsonOf<Array<{topic: string; group: string | null; lag: number | null}>>(await runCli(['lag', '--json', '-u', url]))
    expect(lag.map(({topic, group, lag: behind}) => ({topic, group, lag: behind}))).toEqual([{topic: 'db.t', group: 'g', lag: 0}])
    expect(jsonOf<unknown[]>(await runCli(['lag', '--json', '-u', `${server.url}/0`]))).toEqual([])
    await admin.select(3)
    expect(await admin.xlen('db.t')).toBe(1)
    expect(((await admin.xinfo('GROUPS', 'db.t')) as unknown[]).length).toBe(1)
    await admin.select(0)
    expect(await admin.dbsize()).toBe(0)
    await admin.select(3)
    await admin.flushdb()
    await admin.select(0)
  })
})

describe('environment', () => {
  let server: RedisServer
  let admin: Redis

  beforeAll(async () => {
    server = await RedisServer.start()
    admin = await server.client()
  })

  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it('reads QCTL_REDIS_URL before REDIS_URL, and --redis-url before both', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`
    const fromQctl = await runCli(['publish', 'env.a', '--data', '{}'], {env: {QCTL_REDIS_URL: server.url, REDIS_URL: closed}})
    const fromRedisUrl = await runCli(['publish', 'env.a', '--data', '{}'], {env: {REDIS_URL: server.url}})
    const fromFlag = await runCli(['publish', 'env.a', '--data', '{}', '-u', server.url], {env: {QCTL_REDIS_URL: closed}})
    expect([fromQctl.code, fromRedisUrl.code, fromFlag.code]).toEqual([0, 0, 0])
    expect(await admin.xlen('env.a')).toBe(3)
  })

  it('rejects a malformed URL (exit 2) without echoing its password', async () => {
    const result = await runCli(['publish', 't', '--data', '{}', '-u', `http://user:${CANARY}@host`])
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe('Error: invalid --redis-url: scheme must be redis:// or rediss://, not http://')
    expect(output(result)).not.toContain(CANARY)
  })

  it('exits 6 when --password-file does not exist', async () => {
    const result = await runCli(['publish', 't', '--data', '{}', '-u', server.url, '--password-file', join(dir, 'missing')])
    expect(result.code).toBe(6)
    expect(result.stderr.split('\n')[0]).toBe(`Error: --password-file file not found: ${join(dir, 'missing')}`)
  })
})
