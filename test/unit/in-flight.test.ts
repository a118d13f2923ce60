import {describe, expect, it} from 'vitest'

import {InFlight} from '../../src/core/worker/in-flight.js'

const entry = (id: string): {id: string} => ({id})

describe('InFlight', () => {
  it('holds entries in slots, reuses freed slots, and finds them by ID', () => {
    const held = new InFlight<{id: string}>()
    const a = entry('1-0')
    const b = entry('2-0')
    const slotA = held.add(a)
    const slotB = held.add(b)
    expect(slotA).not.toBe(slotB)
    expect(held.size).toBe(2)
    expect(held.ids()).toContain('2-0')
    held.remove(slotA, a)
    expect(held.size).toBe(1)
    expect(held.ids()).not.toContain('1-0')
    const c = entry('3-0')
    expect(held.add(c)).toBe(slotA)
    expect(held.ids().sort()).toEqual(['2-0', '3-0'])
    expect(held.values()).toContain(b)
  })

  it('ignores a second release of a slot that now holds another entry', () => {
    const held = new InFlight<{id: string}>()
    const a = entry('1-0')
    const slot = held.add(a)
    held.remove(slot, a)
    const b = entry('2-0')
    expect(held.add(b)).toBe(slot)
    held.remove(slot, a)
    expect(held.size).toBe(1)
    expect(held.ids()).toContain('2-0')
  })
})
