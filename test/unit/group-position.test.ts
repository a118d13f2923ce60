import {describe, expect, it} from 'vitest'

import {isQctlError} from '../../src/core/errors.js'
import {describePosition, parsePosition, timeOf} from '../../src/core/groups/position.js'

/** src/core/groups/position.ts: what `--from` and `--to` accept, and times judged on Redis's clock. Pure. */

const usage = (run: () => unknown): string => {
  try {
    run()
  } catch (error) {
    if (isQctlError(error) && error.exitCode === 2) return error.message
    throw error
  }
  throw new Error('no usage error')
}

describe('parsePosition', () => {
  it.each([
    ['start', {kind: 'start'}],
    ['end', {kind: 'end'}],
    ['latest', {kind: 'end'}],
    ['$', {kind: 'end'}],
    ['1700000000000-5', {kind: 'id', id: '1700000000000-5'}],
    // Written without leading zeros, as Redis writes IDs (the scripts compare them as text).
    ['0017-007', {kind: 'id', id: '17-7'}],
    ['0-0', {kind: 'id', id: '0-0'}],
    ['18446744073709551615-18446744073709551615', undefined],
    ['1700000000000', {kind: 'time', ms: 1_700_000_000_000}],
    ['2026-11-28T10:00:00Z', {kind: 'time', ms: Date.parse('2026-11-28T10:00:00Z')}],
    ['2026-11-28', {kind: 'time', ms: Date.parse('2026-11-28')}],
    ['15m-ago', {kind: 'ago', ms: 900_000}],
    ['1.5h-ago', {kind: 'ago', ms: 5_400_000}],
    ['7d-ago', {kind: 'ago', ms: 604_800_000}],
  ] as const)('%s', (text, expected) => {
    if (expected === undefined) expect(usage(() => parsePosition(text, '--to'))).toContain('invalid --to')
    else expect(parsePosition(text, '--to')).toEqual(expected)
  })

  it.each(['', 'beginning', '15m', '-5', 'yesterday', '15x-ago', '2026-13-45', '1-2-3'])('refuses %j naming the flag and every form', (text) => {
    const message = usage(() => parsePosition(text, '--from'))
    expect(message).toContain(`invalid --from "${text}"`)
    expect(message).toContain('a duration ago (15m-ago')
  })

  it('says which direction a bare duration lacks', () => {
    expect(usage(() => parsePosition('15m', '--to'))).toContain('did you mean 15m-ago?')
  })
})

describe('timeOf', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')

  it('counts a duration back from Redis\'s clock, never before the epoch', () => {
    expect(timeOf({kind: 'ago', ms: 60_000}, now, '--to', '1m-ago')).toBe(now - 60_000)
    expect(timeOf({kind: 'ago', ms: now + 1}, now, '--to', 'x')).toBe(0)
  })

  it('keeps a time up to now and refuses one in the future', () => {
    expect(timeOf({kind: 'time', ms: now}, now, '--to', 'now')).toBe(now)
    const message = usage(() => timeOf({kind: 'time', ms: now + 1}, now, '--to', 'soon'))
    expect(message).toContain('--to "soon" is in the future')
    expect(message).toContain("Redis's clock says 2026-12-01T12:00:00.000Z")
  })
})

describe('describePosition', () => {
  it('says start, end, the ID, or the time', () => {
    expect(describePosition({kind: 'start'})).toBe('start')
    expect(describePosition({kind: 'end'})).toBe('end')
    expect(describePosition({kind: 'id', id: '5-1'})).toBe('5-1')
    expect(describePosition({kind: 'ago', ms: 60_000}, 0)).toBe('1970-01-01T00:00:00.000Z')
  })
})
