import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import type {Envelope} from '../../src/core/envelope/envelope.js'
import {QctlError} from '../../src/core/errors.js'
import {keyGlob} from '../../src/core/key-glob.js'
import {reconnectDelayMs} from '../../src/core/redis/reconnect-delay.js'
import {parseFrom} from '../../src/core/tail/from.js'
import {isConnectionTrouble, troubleText} from '../../src/core/tail/outage.js'
import {failureDuring} from '../../src/core/tail/tail-errors.js'
import {truncate} from '../../src/format/table.js'
import {formatConnectionBack, formatConnectionLost, formatTailLine, formatTailPartitionsAdded} from '../../src/format/tail.js'

describe('parseFrom (--from)', () => {
  const now = Date.parse('2026-01-01T12:00:00Z')

  it.each([
    ['start', {kind: 'start'}],
    ['end', {kind: 'end'}],
    [' end ', {kind: 'end'}],
    ['1700000000000-5', {kind: 'after', id: '1700000000000-4'}],
    ['1700000000000-0', {kind: 'after', id: '1699999999999-18446744073709551615'}],
    ['0-0', {kind: 'after', id: '0-0'}],
    ['1700000000000', {kind: 'after', id: '1699999999999-18446744073709551615'}],
    ['1h', {kind: 'after', id: `${now - 3_600_000 - 1}-18446744073709551615`}],
    ['2026-01-01T11:00:00Z', {kind: 'after', id: `${now - 3_600_000 - 1}-18446744073709551615`}],
  ])('%s', (text, expected) => {
    expect(parseFrom(text, now)).toEqual(expected)
  })

  it.each(['yesterday', '', '-5m', 'start-ish'])('%j is refused, naming every form', (text) => {
    expect(() => parseFrom(text, now)).toThrow(`invalid --from "${text}": use start, end, a duration ago`)
  })
})

describe('keyGlob (--match), as Redis matches', () => {
  it.each([
    ['customer-*', 'customer-7', true],
    ['customer-*', 'order-7', false],
    ['*', '', true],
    ['c?t', 'cat', true],
    ['c?t', 'ct', false],
    ['\u00e9?', '\u00e9\ud83d\ude80', true],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[^a-c]x', 'bx', false],
    ['[^a-c]x', 'dx', true],
    ['[z-a]', 'm', true],
    ['[abc', '[abc', true],
    ['[\\]]', ']', true],
    ['[-a]', '-', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['x.y', 'xzy', false],
    ['(a|b)', '(a|b)', true],
    ['line*', 'line\nbreak', true],
  ])('%s ~ %j: %s', (glob, text, expected) => {
    expect(keyGlob(glob)(text)).toBe(expected)
  })
})

describe('formatTailLine', () => {
  const plain = new Chalk({level: 0})
  const envelope = (overrides: Partial<Envelope>): Envelope => ({
    topic: 't',
    partition: null,
    id: '1700000000000-0',
    key: null,
    headers: {},
    data: '{"n":1}',
    publishedAt: '2023-11-14T22:13:20.000Z',
    ...overrides,
  })

  it.each<[Partial<Envelope>, string]>([
    [{}, '1700000000000-0 2023-11-14T22:13:20.000Z - {"n":1}'],
    [{partition: 3, key: 'k', headers: {a: 'b', c: 'd'}}, '1700000000000-0 p3 2023-11-14T22:13:20.000Z k {"n":1}  headers a=b c=d'],
    [{data: ''}, '1700000000000-0 2023-11-14T22:13:20.000Z - <empty>'],
    [{data: null, fields: [['payload', 'p'], ['n', '']]}, '1700000000000-0 2023-11-14T22:13:20.000Z - <no data field>  fields payload=p n='],
    [{data: undefined, dataBase64: Buffer.from([0xff, 0, 1]).toString('base64'), enc: 'raw'}, '1700000000000-0 2023-11-14T22:13:20.000Z - <3 bytes: ff0001>  enc=raw'],
    [{data: undefined, dataBase64: Buffer.alloc(20, 0xab).toString('base64')}, `1700000000000-0 2023-11-14T22:13:20.000Z - <20 bytes: ${'ab'.repeat(16)}…>`],
    [{fieldsBase64: [[Buffer.from([0xff]).toString('base64'), Buffer.from('v').toString('base64')]]}, '1700000000000-0 2023-11-14T22:13:20.000Z - {"n":1}  fields <1 bytes: ff>=v'],
    [{key: 'k\u001b]0;x\u0007', data: 'a\r\nb\u202e'}, '1700000000000-0 2023-11-14T22:13:20.000Z k\\u001b]0;x\\u0007 a\\r\\nb\\u202e'],
    [{publishedAt: null}, '1700000000000-0 - - {"n":1}'],
  ])('%j', (overrides, expected) => {
    expect(formatTailLine(envelope(overrides), plain)).toBe(expected)
  })

  it('cuts the line to the width, payload first', () => {
    const line = formatTailLine(envelope({data: 'x'.repeat(200), headers: {a: 'b'}}), plain, 60)
    expect(line).toBe(`1700000000000-0 2023-11-14T22:13:20.000Z - ${'x'.repeat(60 - 43 - 1)}…`)
    expect(line).toHaveLength(60)
  })

  it('colours only with a colour style: the key cyan, ID and time dim', () => {
    const coloured = formatTailLine(envelope({key: 'k'}), new Chalk({level: 1}))
    expect(coloured).toBe('\u001b[2m1700000000000-0 2023-11-14T22:13:20.000Z\u001b[22m \u001b[36mk\u001b[39m {"n":1}')
  })
})

describe('formatTailLine on wide entries', () => {
  it('a megabyte payload and thousands of fields cost one screen: the same line as cutting the whole text', () => {
    const plain = new Chalk({level: 0})
    const huge: Envelope = {topic: 't', partition: null, id: '1-0', key: null, headers: {}, data: '\u001b'.repeat(1024 * 1024), publishedAt: null, fields: Array.from({length: 5000}, (_, i) => [`f${i}`, 'v'.repeat(1000)] as [string, string])}
    const line = formatTailLine(huge, plain, 80)
    expect(line).toBe(`1-0 - - ${'\\u001b'.repeat(11)}\\u001…`)
    expect(line).toHaveLength(80)
    expect(line).toBe(truncate(formatTailLine(huge, plain), 80))
  })
})

describe('tail --follow through a lost connection', () => {
  const context = {address: '127.0.0.1:6390', username: 'default', commandTimeoutMs: 10_000}
  const reply = (message: string): Error => Object.assign(new Error(message), {name: 'ReplyError'})
  const socket = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6390`), {code})

  it.each([
    [1, 200],
    [2, 400],
    [10, 2000],
    [25, 5000],
    [1000, 5000],
  ])('reconnection attempt %i waits %ims (as work and top)', (attempt, ms) => {
    expect(reconnectDelayMs(attempt)).toBe(ms)
  })

  it.each([
    ['the connection closed', new Error('Connection is closed.'), true],
    ['refused', socket('ECONNREFUSED'), true],
    ['reset', socket('ECONNRESET'), true],
    ['no reply in time', new Error('Command timed out'), true],
    ['loading after a restart', reply('LOADING Redis is loading the dataset in memory'), true],
    ['a cluster that moved the slot', reply('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)'), true],
    ['a cluster retrying past its bound', new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), true],
    ['a connection attempt that failed', new QctlError('REDIS_UNAVAILABLE', 'cannot connect to 127.0.0.1:6390: timed out after 5s'), true],
    ['a wrong password', reply('WRONGPASS invalid username-password pair or user is disabled.'), false],
    ['an ACL refusal', reply("NOPERM this user has no permissions to run the 'xread' command"), false],
    ['a key of another type', reply('WRONGTYPE Operation against a key holding the wrong kind of value'), false],
    ['metadata qctl did not write', new QctlError('BAD_METADATA', 'the metadata of topic "t" (qctl:topic:{t}) has no valid "format" field'), false],
    ['a bug', new TypeError('x is undefined'), false],
  ])('%s: reconnect %s', (_what, error, expected) => {
    expect(isConnectionTrouble(error)).toBe(expected)
  })

  it('says why in the one classification\'s words, a cluster\'s UNBLOCKED as Redis said it', () => {
    expect(troubleText(new Error('Connection is closed.'), context)).toBe('cannot connect to 127.0.0.1:6390: connection closed by the server')
    expect(troubleText(reply('UNBLOCKED the stream key no longer exists'), context)).toBe('UNBLOCKED the stream key no longer exists')
    expect(formatConnectionLost(troubleText(socket('ECONNRESET'), context))).toBe(
      'lost the connection to 127.0.0.1:6390: connection reset by peer; reconnecting until it works (Ctrl-C stops), to go on after the last entry printed',
    )
    expect(formatConnectionLost(troubleText(new Error('Command timed out'), context))).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); reconnecting until it works (Ctrl-C stops), to go on after the last entry printed',
    )
    expect(formatConnectionBack('127.0.0.1:6390', 3412, 5)).toBe('reconnected to 127.0.0.1:6390 after 3.41s (5 attempts); going on after the last entry printed')
    expect(formatTailPartitionsAdded('orders', 2, 3)).toBe('orders grew from 2 to 3 partitions: following partition 2 too, from their start')
  })

  it('without --follow, the error says how far the output got and how to go on', () => {
    const plainTopic = failureDuring(new Error('Connection is closed.'), {entries: 1200, last: {id: '1700000000000-7', partition: null}, partitioned: false}, context) as QctlError
    expect([plainTopic.code, plainTopic.exitCode, plainTopic.message, plainTopic.suggestion]).toEqual([
      'REDIS_UNAVAILABLE',
      3,
      'lost connection to 127.0.0.1:6390: connection closed by the server; printed 1,200 entries before it (the last 1700000000000-7)',
      'tail again with --from 1700000000000-8 to go on after it',
    ])
    expect(plainTopic.details).toEqual({entries: 1200, lastId: '1700000000000-7', lastPartition: null, resumeFrom: '1700000000000-8'})
    const partitioned = failureDuring(new Error('Command timed out'), {entries: 1, last: {id: '1700000000000-7', partition: 2}, partitioned: true}, context) as QctlError
    expect([partitioned.message, partitioned.suggestion]).toEqual([
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); printed 1 entry before it (the last 1700000000000-7 of partition 2)',
      'tail again with --from 1700000000000 to go on (the entries of that millisecond printed already come again)',
    ])
    const none = failureDuring(socket('ECONNRESET'), {entries: 0, last: undefined, partitioned: false}, context) as QctlError
    expect([none.message, none.suggestion]).toEqual(['lost connection to 127.0.0.1:6390: connection reset by peer; nothing was printed', undefined])
    // Anything else is left as it is (the base command names it).
    const denied = reply("NOPERM this user has no permissions to run the 'xrange' command")
    expect(failureDuring(denied, {entries: 3, last: {id: '1-0', partition: null}, partitioned: false}, context)).toBe(denied)
  })
})
