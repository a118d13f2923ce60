import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsonOf, runCli} from '../helpers/cli.js'
import {readLog, RECORDER} from '../helpers/recorder.js'
import {RedisServer} from '../helpers/redis-server.js'
import {sameBytes, wideFields} from '../helpers/wide-entries.js'

/**
 * Entries far wider than Lua's unpack can pass to one command (about 8,000 values), written by
 * another program with a plain XADD: dead-lettered by `qctl work`, put back by `qctl dlq replay`.
 */

let server: RedisServer
let redis: Redis
let dir: string

beforeAll(async () => {
  server = await RedisServer.start()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-wide-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('an entry with 20,000 fields', () => {
  it('is dead-lettered by qctl work and replayed by qctl dlq replay with every field in order, byte for byte', async () => {
    const topic = 'wide'
    const dlq = `{${topic}}:dlq`
    const log = join(dir, 'wide.log')
    const pairs = wideFields(40_000, '{"fail":"permanent"}')
    const id = (await redis.xadd(topic, '*', ...pairs)) as string

    const worked = await runCli(['work', RECORDER, '--topic', topic, '--group', 'billing', '--until-empty', '-u', server.url], {env: {QCTL_TEST_LOG: log}})
    expect(worked.stderr).toBe('')
    expect(worked.code).toBe(0)
    expect(worked.stdout).toContain(`dead-lettered ${id} after 1 attempt as `)
    expect(readLog(log).filter((line) => line.phase === 'start')).toHaveLength(1)
    expect(await redis.xpending(topic, 'billing')).toEqual([0, null, null, null])
    const [[dlqId, filed]] = (await redis.xrangeBuffer(dlq, '-', '+')) as [[Buffer, Buffer[]]]
    expect(filed.length).toBe(pairs.length + 18)
    expect(sameBytes(filed.slice(0, pairs.length), pairs)).toBe(true)
    expect(filed.slice(pairs.length).map(String).filter((_, index) => index % 2 === 0)).toEqual([
      'dlq.topic', 'dlq.id', 'dlq.group', 'dlq.consumer', 'dlq.attempts', 'dlq.error-name', 'dlq.error-message', 'dlq.first-failure', 'dlq.last-failure',
    ])

    const replayed = await runCli(['dlq', 'replay', topic, '--yes', '--json', '-u', server.url])
    expect(replayed.stderr).toBe('')
    expect(replayed.code).toBe(0)
    expect(jsonOf(replayed)).toMatchObject({selected: 1, replayed: 1, remaining: 0})
    // To the replay stream of the group that dead-lettered it (README, qctl dlq).
    const [[newId, back]] = (await redis.xrangeBuffer(`{${topic}}:replay:billing`, '-', '+')) as [[Buffer, Buffer[]]]
    expect(jsonOf<{ids: string[]}>(replayed).ids).toEqual([String(newId)])
    // The original fields in order, byte for byte, then the replay record (the entry had no headers).
    expect(back.length).toBe(pairs.length + 2)
    expect(sameBytes(back.slice(0, pairs.length), pairs)).toBe(true)
    expect(String(back[pairs.length])).toBe('headers')
    expect(JSON.parse(String(back[pairs.length + 1]))).toEqual({'qctl-replayed-from': String(dlqId), 'qctl-replayed-at': expect.any(String) as string, 'qctl-original-id': id})
    expect(await redis.xlen(dlq)).toBe(0)
  })
})
