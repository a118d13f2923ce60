import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsonOf, runCli, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {RedisServer} from '../helpers/redis-server.js'

// `qctl publish` stopped by Redis refusing writes (issue 14): exit 3 (5 for a stream at its last
// ID), one line saying which condition and what to do, the exact count stored and how to resume.

const lines = (from: number, count: number): string =>
  Array.from({length: count}, (_, i) => `${JSON.stringify({seq: from + i})}\n`).join('')

interface JsonFailure {
  error: {code: string; message: string; exitCode: number; suggestion?: string; details: Record<string, unknown>}
}

/** stderr is one `Error:` line (and a `Hint:` line where allowed), no stack trace, and stdout is empty. */
const expectOneLine = (result: CliResult, {hint = false} = {}): void => {
  expect(result.stderr).toMatch(hint ? /^Error: [^\n]+\n(Hint: [^\n]+\n)?$/ : /^Error: [^\n]+\n$/)
  expect(result.stderr).not.toContain('    at ')
  expect(result.stdout).toBe('')
}

/** How many messages the error line says were stored (0 for "nothing was published"). */
const storedIn = (message: string): number => {
  if (message.includes('nothing was published')) return 0
  const count = /published (\d+) messages? \(through input line (\d+)\)/.exec(message)
  if (count === null) throw new Error(`no count in: ${message}`)
  return Number(count[1])
}

/** Publish 500 lines from stdin, let `refuse` change Redis, then send 10 more: the run must stop with 500 stored. */
async function stopAfter500(url: string, redis: Redis, topic: string, refuse: () => Promise<unknown>, ...flags: string[]): Promise<CliResult> {
  const cli = startCli(['publish', topic, '--ndjson', '-u', url, ...flags])
  cli.child.stdin.write(lines(1, 500))
  await waitFor(async () => (await redis.xlen(topic)) === 500, 10_000, '500 messages published')
  await refuse()
  cli.child.stdin.end(lines(501, 10))
  return cli.done
}

/** Write 20 kB values (`fill:0`, `fill:1`, …) until Redis refuses one with OOM; how many keys were tried, the refused one included. */
async function fillUntilOom(redis: Redis): Promise<number> {
  const filler = 'x'.repeat(20_000)
  let filled = 0
  await expect(
    (async () => {
      for (;;) await redis.set(`fill:${filled++}`, filler)
    })(),
  ).rejects.toThrow(/^OOM /)
  return filled
}

describe('qctl publish into a Redis out of memory (maxmemory 2mb, noeviction)', () => {
  const ctx = usePrivateRedis({args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']})

  it('stops with exit 3 and one line; the count it reports is exactly what XLEN grew by, with the line to resume from', async () => {
    const filled = await fillUntilOom(ctx.redis)
    // Room for some messages but not for all of them: a third of the filler freed.
    await ctx.redis.del(...Array.from({length: Math.floor(filled / 3)}, (_, i) => `fill:${i}`))
    const before = await ctx.redis.xlen('oom.t')

    const result = await runCli(['publish', 'oom.t', '--ndjson', '-u', ctx.server.url], {input: lines(1, 100_000)})

    const grew = (await ctx.redis.xlen('oom.t')) - before
    expect(result.code).toBe(3)
    expectOneLine(result)
    expect(grew).toBeGreaterThan(0)
    expect(grew).toBeLessThan(100_000)
    // Batches are in flight together: one sent after the refused batch may still fit (Valkey 8 frees and
    // counts memory a little differently from Redis 7.0 and was seen to store 126 more). The line then
    // names them; the counts it gives add up exactly to what XLEN grew by either way.
    const later = /; besides, (\d+) messages from input lines (\d+)-(\d+) were stored after the failure \(a rerun sends them again\)/.exec(result.stderr)
    const storedAfter = later === null ? 0 : Number(later[1])
    const upTo = grew - storedAfter
    expect(result.stderr).toBe(
      `Error: Redis on 127.0.0.1:${ctx.server.port} is out of memory (OOM; maxmemory reached, and its maxmemory-policy evicts nothing more, e.g. noeviction): ` +
        `free memory or raise maxmemory; published ${upTo} messages (through input line ${upTo}); nothing more was written` +
        `${later === null ? '' : later[0]}; rerun with --skip-lines ${upTo} to continue\n`,
    )
    expect(storedIn(result.stderr)).toBe(upTo)

    // --json: the same facts, with the stored count and the resume flag in details.
    const again = await runCli(['publish', 'oom.t', '--ndjson', '--skip-lines', String(upTo), '--json', '-u', ctx.server.url], {input: lines(1, 100_000)})
    expect(again.code).toBe(3)
    expect(again.stderr).toBe('')
    const json = jsonOf<JsonFailure>(again)
    expect(json.error).toMatchObject({code: 'REDIS_UNAVAILABLE', exitCode: 3})
    expect(json.error.details).toMatchObject({condition: 'OOM', resume: `--skip-lines ${(json.error.details.lastLine as number)}`})
    expect((await ctx.redis.xlen('oom.t')) - before - grew).toBe(json.error.details.published)
    expect(json.error.details.lastLine).toBe(upTo + (json.error.details.published as number))
  })
})

describe('qctl schedule run into a Redis out of memory (maxmemory 2mb, noeviction)', () => {
  const ctx = usePrivateRedis({args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']})

  it('exits 3 with one line naming the condition; the messages stay scheduled, and are appended once memory is freed', async () => {
    const scheduled = await runCli(['publish', 'oom.s', '--ndjson', '--at', '1', '-u', ctx.server.url], {input: lines(1, 50)})
    expect(scheduled.code, scheduled.stderr).toBe(0)
    const filled = await fillUntilOom(ctx.redis)

    const result = await runCli(['schedule', 'run', 'oom.s', '-u', ctx.server.url])
    expect(result.code).toBe(3)
    expectOneLine(result)
    expect(result.stderr).toBe(`Error: Redis on 127.0.0.1:${ctx.server.port} is out of memory (OOM; maxmemory reached, and its maxmemory-policy evicts nothing more, e.g. noeviction): free memory or raise maxmemory\n`)
    expect(await ctx.redis.zcard('{oom.s}:scheduled')).toBe(50)
    expect(await ctx.redis.exists('oom.s')).toBe(0)

    await ctx.redis.del(...Array.from({length: filled}, (_, i) => `fill:${i}`))
    const again = await runCli(['schedule', 'run', 'oom.s', '--json', '-u', ctx.server.url])
    expect(again.code, again.stderr).toBe(0)
    expect(jsonOf<{topics: Array<{moved: number; scheduled: number}>}>(again).topics).toEqual([expect.objectContaining({moved: 50, scheduled: 0})])
    expect(await ctx.redis.xlen('oom.s')).toBe(50)
  })
})

describe('qctl publish to a replica (READONLY)', () => {
  // No wait before the full sync, so the replica links at once.
  const primary = usePrivateRedis({args: ['--repl-diskless-sync-delay', '0']})
  let replica: RedisServer
  let replicaRedis: Redis
  beforeAll(async () => {
    replica = await RedisServer.start({args: ['--replicaof', '127.0.0.1', String(primary.server.port)]})
    replicaRedis = await replica.client()
  })
  afterAll(async () => {
    replicaRedis?.disconnect()
    await replica?.stop()
  })

  it('exits 3 with one line naming the condition, whatever the input form', async () => {
    await waitFor(async () => /master_link_status:up/.test(await replicaRedis.info('replication')), 10_000, 'the replica linked to its primary')
    const expected = `Redis on 127.0.0.1:${replica.port} is a read-only replica (READONLY): send writes to its primary; nothing was published`

    const fromStdin = await runCli(['publish', 'ro.t', '--ndjson', '-u', replica.url], {input: lines(1, 20)})
    expect(fromStdin.code).toBe(3)
    expectOneLine(fromStdin)
    expect(fromStdin.stderr).toBe(`Error: ${expected}\n`)

    const document = await runCli(['publish', 'ro.t', '--data', '{"a":1}', '--json', '-u', replica.url])
    expect(document.code).toBe(3)
    expect(jsonOf<JsonFailure>(document).error).toEqual({
      code: 'REDIS_UNAVAILABLE',
      exitCode: 3,
      message: expected,
      details: {condition: 'READONLY', published: 0, firstId: null, lastId: null, lastLine: 0, resume: null, inDoubt: 0},
    })
    expect(await primary.redis.exists('ro.t')).toBe(0)
  })
})

describe('qctl publish when Redis refuses part-way', () => {
  const ctx = usePrivateRedis()

  it('NOREPLICAS (min-replicas-to-write 1, no replica): exit 3, 500 stored, resume after line 500', async () => {
    const result = await stopAfter500(ctx.server.url, ctx.redis, 'norepl.t', async () => ctx.redis.config('SET', 'min-replicas-to-write', '1'), '--json')
    await ctx.redis.config('SET', 'min-replicas-to-write', '0')
    expect(result.code).toBe(3)
    expect(result.stderr).toBe('')
    const {error} = jsonOf<JsonFailure>(result)
    expect(error.message).toBe(
      `Redis on 127.0.0.1:${ctx.server.port} refuses writes: fewer replicas are connected than min-replicas-to-write asks for (NOREPLICAS): ` +
        'bring the replicas back or lower min-replicas-to-write; published 500 messages (through input line 500); nothing more was written; rerun with --skip-lines 500 to continue',
    )
    expect(error.details).toMatchObject({condition: 'NOREPLICAS', published: 500, lastLine: 500, resume: '--skip-lines 500'})
    expect(await ctx.redis.xlen('norepl.t')).toBe(500)
  })

  it('a stream at its last possible ID: exit 5 with the count stored and a hint, nothing more written', async () => {
    const maxId = '18446744073709551615-18446744073709551615'
    const result = await stopAfter500(ctx.server.url, ctx.redis, 'maxed.t', async () => ctx.redis.xadd('maxed.t', maxId, 'data', '{}'))
    expect(result.code).toBe(5)
    expectOneLine(result, {hint: true})
    expect(result.stderr).toBe(
      `Error: stream "maxed.t" has used up its entry IDs (its last ID is the largest possible, ${maxId}): Redis cannot add to it; ` +
        'published 500 messages (through input line 500); nothing more was written; rerun with --skip-lines 500 to continue\n' +
        'Hint: publish to another topic, or delete the stream; an entry ID far in the future (written by another producer) used them up\n',
    )
    // The 500 and the foreign entry, nothing more.
    expect(await ctx.redis.xlen('maxed.t')).toBe(501)

    const fresh = await runCli(['publish', 'maxed.t', '--data', '{}', '--json', '-u', ctx.server.url])
    expect(fresh.code).toBe(5)
    expect(jsonOf<JsonFailure>(fresh).error).toMatchObject({code: 'STREAM_EXHAUSTED', exitCode: 5, details: {key: 'maxed.t', published: 0}})
  })

  it('BUSY (a script past busy-reply-threshold): Redis answered the refused batch, so nothing is in doubt', async () => {
    // The batch's EVALSHA itself gets the BUSY reply (not a refusal inside the script): an answer
    // all the same, so the run reports the exact count and nothing sent without a reply.
    await ctx.redis.config('SET', 'busy-reply-threshold', '100')
    const blocker = await ctx.server.client()
    let blocked: Promise<unknown> = Promise.resolve()
    try {
      const result = await stopAfter500(ctx.server.url, ctx.redis, 'busy.t', async () => {
        const probe = await ctx.server.client()
        blocked = blocker.eval('local i = 0 while i < 1e12 do i = i + 1 end return i', 0).catch((error: unknown) => error)
        try {
          await waitFor(async () => (await probe.ping().then(() => 'PONG', (error: Error) => error.message)).startsWith('BUSY'), 10_000, 'Redis busy running the script')
        } finally {
          probe.disconnect()
        }
      }, '--json')
      expect(result.code).toBe(3)
      const {error} = jsonOf<JsonFailure>(result)
      expect(error.message).toBe(
        `Redis on 127.0.0.1:${ctx.server.port} is busy running a script or function (BUSY; past busy-reply-threshold): wait for it, or stop it with SCRIPT KILL or FUNCTION KILL; ` +
          'published 500 messages (through input line 500); nothing more was written; rerun with --skip-lines 500 to continue',
      )
      expect(error.details).toMatchObject({condition: 'BUSY', published: 500, lastLine: 500, resume: '--skip-lines 500', inDoubt: 0})
    } finally {
      const killer = await ctx.server.client()
      await killer.script('KILL').catch(() => undefined)
      killer.disconnect()
      await blocked
      blocker.disconnect()
      await ctx.redis.config('SET', 'busy-reply-threshold', '5000')
    }
    expect(await ctx.redis.xlen('busy.t')).toBe(500)
  })

  it('a topic key that is not a stream: exit 2 naming the key and its type, with the count stored', async () => {
    const result = await stopAfter500(ctx.server.url, ctx.redis, 'retyped.t', async () => {
      await ctx.redis.del('retyped.t')
      await ctx.redis.hset('retyped.t', 'field', 'value')
    })
    expect(result.code).toBe(2)
    expectOneLine(result)
    expect(result.stderr).toBe(
      'Error: topic "retyped.t" is a hash, not a stream; published 500 messages (through input line 500); nothing more was written; rerun with --skip-lines 500 to continue\n',
    )
  })
})
