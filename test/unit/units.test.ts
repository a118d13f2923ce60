import {describe, expect, it} from 'vitest'

import {parseBytes, parseDuration} from '../../src/core/units.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['5', '', 's', '5 seconds', '-1s'])('rejects %j, naming the expected form', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration .*e\.g\. 500ms/)
  })
})

describe('parseBytes', () => {
  it.each([
    ['1048576', 1_048_576],
    ['1MiB', 1_048_576],
    ['1M', 1_048_576],
    ['1MB', 1_000_000],
    ['512KiB', 524_288],
    ['2kb', 2000],
    ['1GiB', 1024 ** 3],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes)
  })

  it.each(['', 'lots', '1XB', '0'])('rejects %j', (text) => {
    expect(() => parseBytes(text)).toThrow(/invalid size/)
  })
})
