import {describe, expect, it} from 'vitest'

import {QctlError} from '../../src/core/errors.js'
import {
  DEFAULT_REDIS_URL,
  formatAddress,
  maskedUrl,
  parseRedisUrl,
  passwordsInText,
  type RedisTarget,
} from '../../src/core/redis/redis-url.js'

/** Run `fn`, expecting it to throw; return what was thrown. */
const thrown = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

const target = (overrides: Partial<RedisTarget>): RedisTarget => ({
  host: '127.0.0.1',
  port: 6379,
  db: 0,
  username: undefined,
  password: undefined,
  tls: false,
  ...overrides,
})

describe('parseRedisUrl', () => {
  it.each<[string, RedisTarget]>([
    ['redis://127.0.0.1:6379', target({})],
    ['redis://localhost', target({host: 'localhost'})],
    ['redis://cache.internal:6380', target({host: 'cache.internal', port: 6380})],
    ['rediss://cache.example.com:6380', target({host: 'cache.example.com', port: 6380, tls: true})],
    ['rediss://cache.example.com', target({host: 'cache.example.com', tls: true})],
    ['redis://alice:s3cret@h:7000', target({host: 'h', port: 7000, username: 'alice', password: 's3cret'})],
    ['redis://:onlypass@h', target({host: 'h', password: 'onlypass'})],
    ['redis://bob@h', target({host: 'h', username: 'bob'})],
    ['redis://u:p%40ss%3Aw%2Frd@h', target({host: 'h', username: 'u', password: 'p@ss:w/rd'})],
    ['redis://us%20er:pw@h', target({host: 'h', username: 'us er', password: 'pw'})],
    ['redis://h:6379/0', target({host: 'h'})],
    ['redis://h:6379/5', target({host: 'h', db: 5})],
    ['redis://h/15', target({host: 'h', db: 15})],
    ['redis://h/', target({host: 'h'})],
    ['redis://h/007', target({host: 'h', db: 7})],
    ['redis://[::1]', target({host: '::1'})],
    ['redis://[::1]:6380/2', target({host: '::1', port: 6380, db: 2})],
    ['rediss://u:pw@[2001:db8::5]:7000', target({host: '2001:db8::5', port: 7000, username: 'u', password: 'pw', tls: true})],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected)
  })

  it('parses the default URL to localhost:6379, db 0, no TLS, no credentials', () => {
    expect(parseRedisUrl(DEFAULT_REDIS_URL)).toEqual(target({}))
  })

  it('keeps an unencoded ":" inside the password', () => {
    expect(parseRedisUrl('redis://u:a:b@h').password).toBe('a:b')
  })

  it.each([
    ['http://h:6379', /scheme must be redis:\/\/ or rediss:\/\/, not http:\/\//],
    ['https://h', /scheme must be redis:\/\/ or rediss:\/\/, not https:\/\//],
    ['unix:///tmp/redis.sock', /scheme must be redis:\/\/ or rediss:\/\/, not unix:\/\//],
    ['redis://h/abc', /database must be a number, not "abc"/],
    ['redis://h/-1', /database must be a number, not "-1"/],
    ['redis://h/1.5', /database must be a number, not "1\.5"/],
    ['redis://h/3/4', /database must be a number, not "3\/4"/],
    ['garbage', /expected redis:\/\/\[user:password@\]host:port\[\/db\] or rediss:\/\/…/],
    ['', /expected redis:\/\//],
    ['127.0.0.1:6379', /invalid --redis-url/],
    ['redis://h:notaport', /expected redis:\/\//],
    ['redis://h:99999', /expected redis:\/\//],
    ['redis://', /no host/],
  ])('rejects %j as a usage error', (url, message) => {
    const error = thrown(() => parseRedisUrl(url))
    expect(error).toBeInstanceOf(QctlError)
    expect((error as QctlError).code).toBe('USAGE')
    expect((error as QctlError).exitCode).toBe(2)
    expect((error as QctlError).message).toMatch(/^invalid --redis-url: /)
    expect((error as QctlError).message).toMatch(message)
  })

  it.each([
    'http://admin:hunter2-secret@h:6379',
    'redis://admin:hunter2-secret@h/notadb',
    'redis://admin:hunter2-secret@h:99999',
    'redis://admin:hunter2-secret@:6379',
    'ftp://admin:hunter2-secret@h',
    'redis://admin:hunter2-secret@h/1/2',
  ])('never puts the password in the error for %j', (url) => {
    const error = thrown(() => parseRedisUrl(url)) as Error
    expect(error).toBeInstanceOf(QctlError)
    expect(error.message).not.toContain('hunter2')
    expect(error.message).not.toContain('admin')
    expect(JSON.stringify({...error, message: error.message})).not.toContain('hunter2')
  })

  // BUG: decodeURIComponent throws a bare URIError ("URI malformed") on a malformed
  // percent-escape in the user or password, so this surfaces as an internal error (exit 1)
  // instead of a usage error (exit 2).
  it.each(['redis://u:p%ZZ@h', 'redis://u%E0%A4@h', 'redis://u:%@h'])(
    'rejects a malformed percent-escape in the credentials of %j as a usage error, without the password',
    (url) => {
      const error = thrown(() => parseRedisUrl(url))
      expect(error).toBeInstanceOf(QctlError)
      expect((error as QctlError).code).toBe('USAGE')
      expect((error as QctlError).message).toMatch(/^invalid --redis-url: /)
      expect((error as QctlError).message).not.toContain('%ZZ')
    },
  )
})

describe('formatAddress', () => {
  it.each([
    [{host: '127.0.0.1', port: 6379}, '127.0.0.1:6379'],
    [{host: 'cache.internal', port: 7000}, 'cache.internal:7000'],
    [{host: '::1', port: 6379}, '[::1]:6379'],
    [{host: '2001:db8::5', port: 6380}, '[2001:db8::5]:6380'],
  ])('%j is %s', (address, expected) => {
    expect(formatAddress(address)).toBe(expected)
  })

  it('formats a parsed IPv6 URL back with brackets', () => {
    expect(formatAddress(parseRedisUrl('redis://[::1]:6380'))).toBe('[::1]:6380')
  })
})

describe('maskedUrl', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://h', 'redis://h:6379'],
    ['redis://h/0', 'redis://h:6379'],
    ['redis://h:7000/3', 'redis://h:7000/3'],
    ['rediss://h:6380', 'rediss://h:6380'],
    ['redis://alice:s3cret@h:7000/2', 'redis://alice:***@h:7000/2'],
    ['rediss://alice:s3cret@h', 'rediss://alice:***@h:6379'],
    ['redis://:s3cret@h', 'redis://:***@h:6379'],
    ['redis://bob@h', 'redis://bob@h:6379'],
    ['redis://us%20er:p%40ss@h/1', 'redis://us%20er:***@h:6379/1'],
    ['redis://u:pw@[::1]:6380/4', 'redis://u:***@[::1]:6380/4'],
  ])('%s is shown as %s', (url, expected) => {
    expect(maskedUrl(parseRedisUrl(url))).toBe(expected)
  })

  it('never contains the password, raw or encoded', () => {
    const masked = maskedUrl(parseRedisUrl('redis://u:p%40ssw0rd@h'))
    expect(masked).not.toContain('ssw0rd')
    expect(masked).toContain('***')
  })

  it('re-parses to the same target apart from the password', () => {
    const original = parseRedisUrl('rediss://us%20er:pw@[2001:db8::5]:7000/9')
    expect(parseRedisUrl(maskedUrl(original))).toEqual({...original, password: '***'})
  })
})

describe('passwordsInText', () => {
  it.each<[string, string[]]>([
    ['redis://u:s3cret@h:6379', ['s3cret', 's3cret']],
    ['rediss://:s3cret@h', ['s3cret', 's3cret']],
    ['redis://u:p%40ss@h', ['p%40ss', 'p@ss']],
    ['--redis-url=redis://u:one@a other rediss://v:two@b/3', ['one', 'one', 'two', 'two']],
    ['redis://u:a:b@h', ['a:b', 'a:b']],
  ])('finds the passwords in %j', (text, expected) => {
    expect(passwordsInText(text)).toEqual(expected)
  })

  it.each(['redis://h:6379', 'redis://bob@h', 'http://u:pw@h', 'no url here', '', 'redis:/u:pw@h'])(
    'finds none in %j',
    (text) => {
      expect(passwordsInText(text)).toEqual([])
    },
  )

  it('keeps the raw form when it is not valid percent-encoding', () => {
    expect(passwordsInText('redis://u:100%@h')).toEqual(['100%'])
  })

  it('finds every password that parseRedisUrl would use', () => {
    for (const url of ['redis://u:s3cret@h', 'redis://u:p%40ss@h', 'redis://:x%2Fy@h/2', 'rediss://u:a:b@[::1]:7000']) {
      expect(passwordsInText(url)).toContain(parseRedisUrl(url).password)
    }
  })

  // BUG: the regex stops the password at the first "@", but the URL parser (and so
  // parseRedisUrl) splits credentials at the last one: for `redis://u:p@ss@h` the password
  // used is "p@ss", while only "p" is registered for redaction.
  it('registers a password containing an unencoded "@" as parseRedisUrl reads it', () => {
    const url = 'redis://u:p@ss@h'
    expect(parseRedisUrl(url).password).toBe('p@ss')
    expect(passwordsInText(url)).toContain('p@ss')
  })
})
