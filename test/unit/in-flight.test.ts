import {describe, expect, it} from 'vitest'

import {InFlight} from '../../src/core/worker/in-flight.js'

describe('InFlight', () => {
  it('keeps entries by ID with a size, like the Map it replaces', () => {
    const held = new InFlight<{n: number}>()
    held.set('1-0', {n: 1})
    held.set('2-0', {n: 2})
    held.set('2-0', {n: 3})
    expect(held.size).toBe(2)
    expect(held.has('2-0')).toBe(true)
    held.delete('1-0')
    held.delete('1-0')
    held.delete('9-9')
    expect(held.size).toBe(1)
    expect(held.has('1-0')).toBe(false)
    expect(held.keys()).toEqual(['2-0'])
    expect(held.values()).toEqual([{n: 3}])
  })

  it('treats any ID as data: nothing inherited, nothing polluted', () => {
    const held = new InFlight<number>()
    expect(held.has('toString')).toBe(false)
    expect(held.has('constructor')).toBe(false)
    held.set('__proto__', 1)
    expect(held.has('__proto__')).toBe(true)
    expect(held.size).toBe(1)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    held.delete('__proto__')
    expect(held.size).toBe(0)
  })
})
