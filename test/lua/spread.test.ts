import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {scriptSource} from '../../src/core/scripts.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/includes/spread.lua, the helper that passes any number of values to one command (see
 * its header), run on a private redis-server: every value, in order, at the sizes where its way
 * of building the list changes.
 */

const context = usePrivateRedis()
let redis: Redis

beforeAll(() => {
  redis = context.redis
})

const SPREAD = readFileSync(join(PROJECT_ROOT, 'src', 'lua', 'includes', 'spread.lua'), 'utf8')

/** XADDs t[1..n] (field `f<i>`, value `<i>`) through spread and returns the entry as the server stored it. */
const DRIVER = `
local n = tonumber(ARGV[1])
local t = {}
for i = 1, n, 2 do t[i] = 'f' .. i; t[i + 1] = tostring(i + 1) end
local id = redis.call('XADD', KEYS[1], '*', spread(t, n))
return redis.call('XRANGE', KEYS[1], id, id)[1][2]
`

const expected = (n: number): string[] => Array.from({length: n}, (_, i) => (i % 2 === 0 ? `f${i + 1}` : String(i + 1)))

/** The helper with a smaller depth budget, so that the tail-call path runs at test sizes. */
const withDepth = (depth: number): string => {
  const changed = SPREAD.replace(/^local PEEL_DEPTH_MAX = \d+$/m, `local PEEL_DEPTH_MAX = ${depth}`)
  if (changed === SPREAD) throw new Error('spread.lua no longer declares PEEL_DEPTH_MAX: update this test')
  return changed
}

let key = 0
async function spreadThrough(helper: string, n: number): Promise<string[]> {
  return (await redis.eval(`${helper}\n${DRIVER}`, 1, `spread-${++key}`, n)) as string[]
}

// Around the unpack limit (UNPACK_MAX, 7,000), one and two peeled blocks of 128, and far past 8,000.
const SIZES = [2, 128, 6998, 7000, 7002, 7128, 7130, 7256, 7258, 8000, 16_002, 40_000]

describe('spread(t, n)', () => {
  it.each(SIZES)('passes %i values to XADD, in order', async (n) => {
    expect(await spreadThrough(SPREAD, n)).toEqual(expected(n))
  })

  it.each([...SIZES.map((n): [number, number] => [n, 0]), [40_000, 3]])('passes %i values with a depth budget of %i (the tail-call path)', async (n, depth) => {
    expect(await spreadThrough(withDepth(depth), n)).toEqual(expected(n))
  })

  it('is what unpack is not: 8,000 values are past unpack on this server', async () => {
    await expect(redis.eval("local t = {} for i = 1, 8000 do t[i] = 'v' end return redis.call('XADD', KEYS[1], '*', unpack(t))", 1, 'unpacked')).rejects.toThrow(
      /too many results to unpack/,
    )
  })
})

describe('scripts that include it', () => {
  it.each(['dead-letter-4.lua', 'replay-2.lua'])('%s is sent with spread.lua in place of its include line', (file) => {
    const source = scriptSource(file)
    expect(source).not.toContain('@include')
    expect(source).toContain(SPREAD.trimEnd())
    expect(source).toContain('spread(fields, #fields)')
    expect(source).not.toMatch(/unpack\(fields/)
  })
})
