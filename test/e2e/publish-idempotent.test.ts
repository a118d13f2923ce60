import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {PublishResult} from '../../src/core/publish/publish.js'
import {jsonOf, runCli, startCli, waitFor} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * `qctl publish --idempotency-key-field / --idempotency-key`: a message whose idempotency key was
 * published to its stream within --dedupe-window is not stored again (xadd-dedupe-2.lua). Runs on one
 * server and on a 3-primary cluster.
 */

const ctx = useTestRedis()
let dir = ''
let counter = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-idempotent-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const qctl = async (args: string[], input?: string) => runCli([...args, '-u', ctx.server.url], input === undefined ? {} : {input})

/** An NDJSON file of `count` orders `{order: {id: o<n>}, n}` (n from `first`). */
async function ordersFile(count: number, first = 0, name = `orders-${++counter}.ndjson`): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, `${Array.from({length: count}, (_, i) => JSON.stringify({order: {id: `o${first + i}`}, n: first + i})).join('\n')}\n`)
  return file
}

const once = ['--idempotency-key-field', 'order.id', '--json']

/** Every `n` stored in the stream, in stream order. */
async function storedNumbers(stream: string): Promise<number[]> {
  const entries = await ctx.redis.xrange(stream, '-', '+')
  return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('data') + 1] as string) as {n: number}).n)
}

describe('qctl publish, once per idempotency key', () => {
  it('the same file twice within the window: stored once, the second run counts every message as deduplicated', async () => {
    const topic = `once-${++counter}`
    const file = await ordersFile(2500)
    const first = await qctl(['publish', topic, file, ...once])
    expect(first.code, first.stderr).toBe(0)
    expect(jsonOf<PublishResult>(first)).toMatchObject({published: 2500, deduplicated: 0})
    const second = await qctl(['publish', topic, file, ...once])
    expect(second.code, second.stderr).toBe(0)
    expect(jsonOf<PublishResult>(second)).toMatchObject({published: 0, deduplicated: 2500, firstId: null})
    expect(await ctx.redis.xlen(topic)).toBe(2500)
    // The human summary says so.
    const human = await qctl(['publish', topic, file, '--idempotency-key-field', 'order.id'])
    expect(human.stdout).toContain('Nothing published to')
    expect(human.stdout).toContain('Not stored again: 2,500 messages whose idempotency key was published within the dedupe window.')
  })

  it('a key repeated within one input is stored the first time only, in input order', async () => {
    const topic = `once-${++counter}`
    const lines = ['{"id":"a","n":0}', '{"id":"b","n":1}', '{"id":"a","n":2}', '{"id":"c","n":3}', '{"id":"b","n":4}']
    const result = await qctl(['publish', topic, '--ndjson', '--idempotency-key-field', 'id', '--json'], `${lines.join('\n')}\n`)
    expect(jsonOf<PublishResult>(result)).toMatchObject({published: 3, deduplicated: 2})
    expect(await storedNumbers(topic)).toEqual([0, 1, 3])
  })

  it('a publish killed part-way and run again from the start (no --skip-lines) stores nothing twice', async () => {
    const topic = `once-${++counter}`
    const total = 6000
    const file = await ordersFile(total)
    const lines = Array.from({length: total}, (_, n) => JSON.stringify({order: {id: `o${n}`}, n}))
    // The first run reads stdin: half the input, then it is killed once some of it is stored.
    const cut = startCli(['publish', topic, '--ndjson', ...once, '-u', ctx.server.url])
    cut.child.stdin?.write(`${lines.slice(0, total / 2).join('\n')}\n`)
    await waitFor(async () => (await ctx.redis.xlen(topic)) >= 1000, 20_000, 'the first run to store some')
    cut.child.kill('SIGKILL')
    await cut.done
    const storedBefore = await ctx.redis.xlen(topic)
    expect(storedBefore).toBeLessThanOrEqual(total / 2)
    const rerun = await qctl(['publish', topic, file, ...once])
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(jsonOf<PublishResult>(rerun)).toMatchObject({published: total - storedBefore, deduplicated: storedBefore})
    const stored = await storedNumbers(topic)
    expect(stored).toHaveLength(total)
    expect(new Set(stored).size).toBe(total)
  })

  it('once the window is over, the same key is stored again; the set expires with it', async () => {
    const topic = `once-${++counter}`
    const file = await ordersFile(3)
    const args = ['publish', topic, file, '--idempotency-key-field', 'order.id', '--dedupe-window', '300ms', '--json']
    expect(jsonOf<PublishResult>(await qctl(args))).toMatchObject({published: 3})
    await waitFor(async () => (await ctx.redis.exists(`{${topic}}:dedupe`)) === 0, 10_000, 'the dedupe set to expire')
    expect(jsonOf<PublishResult>(await qctl(args))).toMatchObject({published: 3, deduplicated: 0})
    expect(await ctx.redis.xlen(topic)).toBe(6)
  })

  it('one document with --idempotency-key: stored once; --raw with a fixed key works too', async () => {
    const topic = `once-${++counter}`
    const args = ['publish', topic, '--data', '{"total":5}', '--idempotency-key', 'checkout-42', '--json']
    const first = jsonOf<PublishResult>(await qctl(args))
    expect(first).toMatchObject({published: 1, deduplicated: 0})
    expect(first.id).toMatch(/^\d+-\d+$/)
    const second = await qctl(args)
    expect(second.code).toBe(0)
    expect(jsonOf<PublishResult>(second)).toMatchObject({published: 0, deduplicated: 1})
    expect(jsonOf<PublishResult>(second).id).toBeUndefined()
    const raw = ['publish', topic, '--data', 'not json', '--raw', '--idempotency-key', 'raw-1', '--json']
    expect(jsonOf<PublishResult>(await qctl(raw))).toMatchObject({published: 1})
    expect(jsonOf<PublishResult>(await qctl(raw))).toMatchObject({published: 0, deduplicated: 1})
    expect(await ctx.redis.xlen(topic)).toBe(2)
  })

  it('a partitioned topic: keyless messages go where their idempotency key hashes, so a rerun finds them', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, 'once-parts', 4)
    const file = await ordersFile(400)
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, file, ...once]))).toMatchObject({published: 400})
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, file, ...once]))).toMatchObject({published: 0, deduplicated: 400})
    let total = 0
    for (const [index, partition] of partitions.entries()) {
      const numbers = await storedNumbers(partition.stream)
      total += numbers.length
      for (const n of numbers) expect(partitionOfKey(`o${n}`, 4)).toBe(index)
    }
    expect(total).toBe(400)
  })

  it('refuses what cannot be published once, before storing anything', async () => {
    const topic = `once-${++counter}`
    const both = await qctl(['publish', topic, '--data', '{"id":1}', '--idempotency-key', 'a', '--idempotency-key-field', 'id'])
    expect(both.code).toBe(2)
    const windowAlone = await qctl(['publish', topic, '--data', '{"id":1}', '--dedupe-window', '1m'])
    expect(windowAlone.code).toBe(2)
    expect(windowAlone.stderr).toBe('Error: --dedupe-window needs --idempotency-key-field or --idempotency-key: without a key, every message is stored\n')
    const noWindow = await qctl(['publish', topic, '--data', '{"id":1}', '--idempotency-key', 'a', '--dedupe-window', '0s'])
    expect([noWindow.code, noWindow.stderr]).toEqual([2, 'Error: --dedupe-window must be longer than 0\n'])
    const raw = await qctl(['publish', topic, '--data', 'x', '--raw', '--idempotency-key-field', 'id'])
    expect(raw.code).toBe(2)
    const file = join(dir, `missing-${++counter}.ndjson`)
    await writeFile(file, '{"order":{"id":"a"}}\n{"order":{}}\n')
    const missing = await qctl(['publish', topic, file, '--idempotency-key-field', 'order.id'])
    expect(missing.code).toBe(5)
    expect(missing.stderr).toContain(`${file}:2`)
    expect(missing.stderr).toContain('idempotency key field "order.id" is missing')
    expect(await ctx.redis.exists(topic)).toBe(0)
  })
})
