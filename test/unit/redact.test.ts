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
    expect(redact('env QCTL_REDIS_PASSWORD=ab REDIS_PASSWORD="a b"')).toBe('env QCTL_REDIS_PASSWORD=*** REDIS_PASSWORD=***')
    expect(redact("{ password: 'ab', host: 'h' }")).toBe("{ password: ***, host: 'h' }")
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
