import {describe, expect, it} from 'vitest'

import {redact, registerSecret} from '../../src/output/redact.js'

describe('redact: passwords masked where they are credentials', () => {
  it('masks a URL password of any length, known or not, up to the last @', () => {
    expect(redact("argv: [ '-u', 'redis://:xY@127.0.0.1:7411' ]")).toBe("argv: [ '-u', 'redis://:***@127.0.0.1:7411' ]")
    expect(redact('rediss://alice:p@ss@host:6380/2 and more')).toBe('rediss://alice:***@host:6380/2 and more')
    expect(redact('redis://127.0.0.1:6379 has no password')).toBe('redis://127.0.0.1:6379 has no password')
  })

  it('masks the arguments of AUTH and HELLO as ioredis logs them', () => {
    expect(redact("write command[127.0.0.1:7411]: 0 -> auth([ 'xY' ])")).toBe('write command[127.0.0.1:7411]: 0 -> auth(***)')
    expect(redact("0 -> hello([ '3', 'AUTH', 'default', 'xY' ])")).toBe('0 -> hello(***)')
  })

  it('masks known passwords on a line with the AUTH command, and assignments to PASSWORD names', () => {
    registerSecret('ab')
    expect(redact('proxy: AUTH default ab')).toBe('proxy: AUTH default ***')
    expect(redact('env QCTL_REDIS_PASSWORD=ab OTHER_PASSWORD="a b"')).toBe('env QCTL_REDIS_PASSWORD=*** OTHER_PASSWORD="a b"')
    // Quotes kept, so a JSON document stays valid; a value that is not a known password is left as it is.
    expect(redact("{ password: 'ab', host: 'h' }")).toBe("{ password: '***', host: 'h' }")
    expect(redact('{"user":"bob","newPassword":"x","password":"ab"}')).toBe('{"user":"bob","newPassword":"x","password":"***"}')
    // Whole words only on an AUTH line: "default" keeps its letters.
    registerSecret('a')
    expect(redact('AUTH default a')).toBe('AUTH default ***')
  })

  it('masks a known password as the value of --password, also as oclif logs argv over several lines', () => {
    registerSecret('pr0f1le')
    expect(redact('qctl profile create p --password pr0f1le --use')).toBe('qctl profile create p --password *** --use')
    expect(redact('qctl profile create p --password=pr0f1le')).toBe('qctl profile create p --password=***')
    expect(redact("argv: [ 'p', '--password', 'pr0f1le' ]")).toBe("argv: [ 'p', '--password', '***' ]")
    expect(redact("argv: [\n  'p',\n  '--password',\n  'pr0f1le'\n]")).toBe("argv: [\n  'p',\n  '--password',\n  '***'\n]")
    // Not --password-file's value, and not a value that is not a known password.
    expect(redact('--password-file pr0f1le --password other')).toBe('--password-file pr0f1le --password other')
  })

  it('never reads a host:port followed by an address elsewhere on the line as a URL password', () => {
    const line = '{"callback":"http://billing:8080/hook","customer":"bob@example.com"}'
    expect(redact(line)).toBe(line)
    expect(redact('GET http://api:8080/users/bob@x.com')).toBe('GET http://api:8080/users/bob@x.com')
  })

  it('runs in time linear in the line, whatever the text (no catastrophic backtracking)', () => {
    // Each of these took seconds at 80 KB with the first patterns; they must stay cheap at 1 MB.
    // No time is asserted: a quadratic pattern takes minutes on these and runs into the test timeout.
    for (const hostile of ['auth ' + 'a-'.repeat(500_000), 'auth('.repeat(200_000), 'auth(['.repeat(200_000), 'A'.repeat(1_000_000) + 'PASSWORD', '--password'.repeat(100_000), `--password${' '.repeat(1_000_000)}`]) {
      expect(redact(hostile)).toBe(hostile)
    }
  })

  it('leaves ordinary words alone, even when a short password is one of them', () => {
    registerSecret('wrong')
    registerSecret('a')
    expect(redact('Error: authentication failed: wrong password, unknown user or user disabled')).toBe(
      'Error: authentication failed: wrong password, unknown user or user disabled',
    )
    expect(redact('a tab')).toBe('a tab')
  })
})
