import {describe, expect, it} from 'vitest'

import {refuseSplitSlots} from '../../src/core/cluster-slots.js'
import {isQctlError} from '../../src/core/errors.js'
import {deadLetterKey, retryKey, topicKeysShareSlot, replayKey} from '../../src/core/keys.js'
import {parseNatMap} from '../../src/core/redis/cluster-nat.js'
import {isRedirection} from '../../src/core/redis/cluster-nodes.js'
import {keySlot} from '../../src/core/redis/key-slot.js'
import {classifyRedisError, isUnblockedByCluster} from '../../src/core/redis/redis-errors.js'
import {parseRedisUrls} from '../../src/core/redis/redis-url.js'

const thrown = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

describe('keySlot', () => {
  // Each slot as `CLUSTER KEYSLOT` answered on Redis 7.0.15 (the e2e cluster suite checks many more against a live node).
  it.each([
    ['', 0],
    ['a', 15495],
    ['{a}b', 15495],
    ['a{}b', 13694],
    ['{}{b}', 8193],
    ['{{a}}', 10276],
    ['x}y', 8210],
    ['x}y:dlq', 2801],
    ['é', 10180],
    ['123456789', 12739],
    ['{user1000}.following', 3443],
    ['foo{bar}{zap}', 5061],
  ])('slot of %j is %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot)
    expect(keySlot(Buffer.from(key, 'utf8'))).toBe(slot)
  })

  it('puts every key derived from a topic in its slot, unless braces spoil the hash tag', () => {
    for (const topic of ['orders', 'order.processed', '{orders}.v2', 'a{b}c', 'é-topic']) {
      expect(topicKeysShareSlot(topic)).toBe(true)
      for (const key of [deadLetterKey(topic), retryKey(topic, 'g'), replayKey(topic, 'g')]) expect(keySlot(key)).toBe(keySlot(topic))
    }
    for (const topic of ['x}y', 'a{}b', '{x']) expect(topicKeysShareSlot(topic)).toBe(false)
  })
})

describe('refuseSplitSlots (work and dlq replay on a cluster)', () => {
  it('refuses a topic whose derived keys hash elsewhere, naming both slots (exit 2)', () => {
    const error = thrown(() => refuseSplitSlots('x}y', deadLetterKey('x}y')))
    expect(isQctlError(error) && error.exitCode).toBe(2)
    expect(String((error as Error).message)).toContain('slot 2801')
    expect(String((error as Error).message)).toContain('(8210)')
  })

  it('refuses a --dlq in another slot, and suggests one with the topic\'s hash tag', () => {
    const error = thrown(() => refuseSplitSlots('orders', 'other'))
    expect(isQctlError(error) && error.exitCode).toBe(2)
    expect(isQctlError(error) && error.suggestion).toContain('{orders}:dlq.custom')
    expect(keySlot('{orders}:dlq.custom')).toBe(keySlot('orders'))
  })

  it('accepts the default dead-letter stream and one in the topic\'s slot', () => {
    expect(() => refuseSplitSlots('orders', deadLetterKey('orders'))).not.toThrow()
    expect(() => refuseSplitSlots('orders', '{orders}:dead')).not.toThrow()
  })
})

describe('parseRedisUrls (cluster seeds)', () => {
  it('takes repeated URLs and comma-separated lists, splitting only before a new scheme', () => {
    const seeds = parseRedisUrls(['redis://u:p,w@h1:7000,redis://h2:7001', 'redis://h3:7002'])
    expect(seeds.map(({host, port}) => `${host}:${port}`)).toEqual(['h1:7000', 'h2:7001', 'h3:7002'])
    // One user serves every node: the credentials of the first URL that names them go to all.
    expect(seeds.every((seed) => seed.username === 'u' && seed.password === 'p,w')).toBe(true)
  })

  it.each([
    [['redis://h1:7000', 'rediss://h2:7001'], 'mix redis:// and rediss://'],
    [['redis://h1:7000/1', 'redis://h2:7001'], 'different databases'],
    [['redis://a:x@h1:7000', 'redis://b:y@h2:7001'], 'different users or passwords'],
  ])('refuses seeds that disagree: %j', (urls, reason) => {
    const error = thrown(() => parseRedisUrls(urls))
    expect(isQctlError(error) && error.exitCode).toBe(2)
    expect((error as Error).message).toContain(reason)
    expect((error as Error).message).not.toMatch(/[xy]@/)
  })
})

describe('parseNatMap (--cluster-nat)', () => {
  it('maps announced addresses to reachable ones, IPv6 in brackets', () => {
    expect(parseNatMap(['10.0.0.5:6379=127.0.0.1:7001', '[fd00::1]:6380=localhost:7002'])).toEqual({
      '10.0.0.5:6379': {host: '127.0.0.1', port: 7001},
      'fd00::1:6380': {host: 'localhost', port: 7002},
    })
  })

  it.each(['10.0.0.5=127.0.0.1:7001', '10.0.0.5:6379', 'a:1=b:2=c:3', 'a:0=b:2', 'a:1=b:70000'])('refuses %j (exit 2)', (rule) => {
    const error = thrown(() => parseNatMap([rule]))
    expect(isQctlError(error) && error.exitCode).toBe(2)
  })

  it('refuses one address mapped twice', () => {
    expect((thrown(() => parseNatMap(['a:1=b:2', 'a:1=c:3'])) as Error).message).toContain('mapped twice')
  })
})

describe('cluster replies', () => {
  const reply = (message: string): Error => Object.assign(new Error(message), {name: 'ReplyError'})

  it('treats the UNBLOCKED replies of a migration and a failover as transient', () => {
    expect(isUnblockedByCluster(reply('UNBLOCKED the stream key no longer exists'))).toBe(true)
    expect(isUnblockedByCluster(reply('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)'))).toBe(true)
    expect(isUnblockedByCluster(reply('UNBLOCKED client unblocked via CLIENT UNBLOCK'))).toBe(false)
  })

  it('knows which replies a fresh slot map answers', () => {
    for (const message of ['MOVED 3999 127.0.0.1:7001', 'ASK 3999 127.0.0.1:7001', 'TRYAGAIN Multiple keys request during rehashing of slot', 'CLUSTERDOWN The cluster is down', 'Connection is closed.']) {
      expect(isRedirection(reply(message))).toBe(true)
    }
    expect(isRedirection(reply('NOGROUP No such key'))).toBe(false)
  })

  it('says a cluster gave up retrying (exit 3), and that a cluster node was used as one server (exit 2)', () => {
    const context = {address: '127.0.0.1:7000', username: 'default'}
    const gaveUp = classifyRedisError(new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), context)
    expect(gaveUp?.exitCode).toBe(3)
    expect(gaveUp?.message).toContain('Connection is closed.')
    const none = classifyRedisError(new Error('None of startup nodes is available'), context)
    expect(none?.exitCode).toBe(3)
    expect(none?.message).toBe('cannot reach any node of the Redis Cluster at 127.0.0.1:7000 (None of startup nodes is available)')
    const moved = classifyRedisError(reply('MOVED 8507 127.0.0.1:7001'), context)
    expect(moved?.exitCode).toBe(2)
    expect(moved?.message).toContain('--cluster')
  })
})
